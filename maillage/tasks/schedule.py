"""The minute-level scheduler: periodic jobs run once per due time, and nothing is left behind.

django-crontask needs Python 3.12 (we run 3.11), so this is ours, in the
shape of healthchecks' ``sendalerts``. Each tick:

1. for every job, the latest due time at or before now (a multiple of its
   period since the epoch, in UTC); if no run row exists for it or a later
   one, one is inserted (unique per job and due time, so two schedulers
   racing create it once) and its task enqueued on commit. Due times missed
   while no scheduler ran are not replayed one by one: the job runs once,
   for the latest, and a job reads the state of the world, not its minute;
2. the sweep: every outgoing mail and run that is due (pending, its backoff
   over) or held by a dead attempt (claimed longer ago than the claim
   timeout), and not enqueued since, is enqueued again. A lost enqueue, a
   killed worker, a backend that forgot a task: the sweep finds the row.

A run is claimed like a mail (``claims.claim``), so a run enqueued twice
runs once; a run whose worker died runs again after the claim timeout,
which is why a job must be idempotent (each job below says how it is).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from maillage.tasks import claims
from maillage.tasks.models import Claimable, OutgoingMail, ScheduledRun, WorkStatus
from maillage.tasks.queue import run_later, send_mail_later

logger = logging.getLogger(__name__)

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
SWEEP_BATCH = 500


@dataclass(frozen=True)
class Periodic:
    """A job: its name, its period in minutes, and the dotted path of ``f(due_at) -> object``."""

    name: str
    every_minutes: int
    function: str

    def latest_due(self, now: dt.datetime) -> dt.datetime:
        minutes = int((now - EPOCH).total_seconds() // 60)
        return EPOCH + dt.timedelta(minutes=minutes - minutes % self.every_minutes)


# The jobs of the platform; acts (tele-expertise deadlines, booking reminders) add theirs here.
JOBS: tuple[Periodic, ...] = (
    # Idempotent: deletes what is older than a limit, twice deletes nothing more.
    Periodic("prune_finished_work", 24 * 60, "maillage.tasks.jobs.prune_finished_work"),
    # Idempotent: deletes the bulk exports past their time, and their files.
    Periodic("bulk_export_expiry", 60, "maillage.fhir.bulk.upkeep.expire"),
    # Idempotent: deletes the expired OAuth tokens and codes of SMART apps.
    Periodic("oauth_token_expiry", 60, "maillage.smart.upkeep.clear_expired_tokens"),
    # Idempotent: each reminder and escalation of a request is sent once
    # (a conditional UPDATE of its sent time, and an idempotent notice).
    Periodic("expertise_deadlines", 1, "maillage.expertise.deadlines.remind"),
    # Idempotent: computes again the kept response-time figures that a new
    # answer or conclusion made outdated (a second run finds none).
    Periodic("expertise_figures", 1, "maillage.expertise.figures.refresh_kept"),
    # Idempotent: each reminder of an appointment is sent once (a conditional
    # UPDATE of its sent time, and notices and SMS with idempotency keys).
    Periodic("agenda_reminders", 1, "maillage.agenda.reminders.remind"),
    # Idempotent: slots are unique by (schedule, start); existing ones are left alone.
    Periodic("agenda_slots", 60, "maillage.agenda.slots.extend"),
)

# Other claimed work swept at every tick beside mail and runs: ``f(now) -> count``.
SWEEPS: tuple[str, ...] = (
    "maillage.fhir.bulk.upkeep.sweep_exports",
    "maillage.agenda.sms.sweep",
)


def jobs() -> list[Periodic]:
    extra = [Periodic(*job) for job in getattr(settings, "MAILLAGE_PERIODIC_JOBS", ())]
    return [*JOBS, *extra]


def job_named(name: str) -> Periodic | None:
    return next((job for job in jobs() if job.name == name), None)


def tick(now: dt.datetime | None = None) -> list[ScheduledRun]:
    """Create the runs that are due (once each), then sweep. Returns the runs created here."""
    now = now or timezone.now()
    created = [run for job in jobs() if (run := _due_run(job, now)) is not None]
    sweep(now)
    return created


def _due_run(job: Periodic, now: dt.datetime) -> ScheduledRun | None:
    due = job.latest_due(now)
    last = ScheduledRun.objects.filter(job=job.name).aggregate(last=Max("due_at"))["last"]
    if last is not None and last >= due:
        return None
    try:
        with transaction.atomic():
            run = ScheduledRun.objects.create(
                job=job.name, due_at=due, next_attempt_at=now, created_at=now
            )
            run_later(run.pk)
    except IntegrityError:
        return None  # another scheduler created this run first
    return run


def sweep(now: dt.datetime | None = None) -> int:
    """Enqueue again every row that is due or held by a dead attempt and not enqueued since."""
    now = now or timezone.now()
    count = 0
    for model, enqueue in ((OutgoingMail, send_mail_later), (ScheduledRun, run_later)):
        count += sweep_rows(model, enqueue, now)
    for path in SWEEPS:
        swept: Callable[[dt.datetime], int] = import_string(path)
        count += swept(now)
    _give_up_on_abandoned(now)
    return count


def sweep_rows(model: type[Claimable], enqueue: Callable[[int], None], now: dt.datetime) -> int:
    """The sweep for one kind of claimed row (other apps' work, an export, uses it too)."""
    stale = now - claims.claim_timeout()
    pending = Q(status=WorkStatus.PENDING, next_attempt_at__lte=now) & (
        # Never enqueued, enqueued before its backoff ended, or lost in the queue.
        Q(enqueued_at__isnull=True)
        | Q(enqueued_at__lt=F("next_attempt_at"))
        | Q(enqueued_at__lt=stale)
    )
    # Not enqueued since that attempt was claimed (or so long ago that it was lost too).
    dead = Q(
        status=WorkStatus.RUNNING, claimed_at__lt=stale, attempts__lt=claims.max_attempts()
    ) & (
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=F("claimed_at")) | Q(enqueued_at__lt=stale)
    )
    pks = list(
        model._default_manager.filter(pending | dead)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for pk in pks:
        with transaction.atomic():
            enqueue(pk)
    return len(pks)


def _give_up_on_abandoned(now: dt.datetime) -> None:
    from maillage.tasks.mail import mirror

    error = "its worker stopped during every attempt"
    for model in (OutgoingMail, ScheduledRun):
        for pk in model._default_manager.filter(claims.abandoned_q(now)).values_list(
            "pk", flat=True
        )[:SWEEP_BATCH]:
            failed = (
                model._default_manager.filter(claims.abandoned_q(now), pk=pk).update(
                    status=WorkStatus.FAILED, finished_at=now, error=error
                )
                == 1
            )
            if failed and model is OutgoingMail:
                mirror(OutgoingMail.objects.get(pk=pk))


def run(pk: int) -> str:
    """One attempt at one scheduled run."""
    scheduled = claims.claim(ScheduledRun, pk)
    if scheduled is None:
        return "not claimed"
    job = job_named(scheduled.job)
    if job is None:
        claims.fail(scheduled, "unknown job", permanent=True)
        return scheduled.status
    function: Callable[[dt.datetime], object] = import_string(job.function)
    try:
        function(scheduled.due_at)
    except Exception as error:
        logger.exception("scheduled job %s failed", job.name)
        return claims.fail(scheduled, f"{type(error).__name__}: {error}", permanent=False)
    claims.finish(scheduled)
    return scheduled.status
