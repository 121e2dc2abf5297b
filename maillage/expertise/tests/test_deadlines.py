"""Deadlines that hold: reminders at 50 % and 90 % and the escalation, once each, by the worker.

Nobody answers. The test moves the clock by moving the request's times into
the past (as if its hours had passed) and, for each minute it lets pass,
gives the scheduler a new run of ``expertise_deadlines`` as its tick would;
a real ``manage.py run_worker`` (its own process, on the test database) runs
those runs and sends the notices through a real aiosmtpd relay over
STARTTLS. Midway the worker is killed while the relay holds a reminder, and
another one takes over: every notice arrives once.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections import Counter
from typing import Any

import pytest
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import override

from maillage.expertise import actions, deadlines
from maillage.expertise.models import Request, Status
from maillage.tasks.mail import SENDING, SENT
from maillage.tasks.models import OutgoingMail, ScheduledRun, WorkStatus
from maillage.tasks.queue import run_later
from maillage.tasks.tests.conftest import DATABASE_BACKEND, relay  # noqa: F401 (a fixture)
from maillage.tasks.tests.helpers import wait_for, worker

TIMES = ("submitted_at", "due_at", "remind_half_at", "remind_ninety_at")


def _ask(personas: Any, dermatology: Any, priority: str = "urgent") -> Request:
    gp = personas.treating_doctor.user
    draft = actions.save_draft(
        gp,
        personas.patient.uuid,
        actions.Ask(
            question="Plaque érythémateuse du coude. Psoriasis ?",
            priority=priority,
            pool_uuid=dermatology.pool.uuid,
            consent=True,
        ),
    )
    return actions.submit(gp, draft.uuid)


def _age(request: Request, by: dt.timedelta, *fields: str) -> None:
    """The clock moves: the request was asked ``by`` earlier than it was."""
    names = fields or TIMES
    Request.objects.filter(pk=request.pk).update(**{name: F(name) - by for name in names})


def _until(request: Request, fraction: float) -> dt.timedelta:
    """How far to move the clock so that ``fraction`` (0.5, 0.9, 1) of its time has just passed.

    Read from the request's own times (after a hold, they moved).
    """
    request.refresh_from_db()
    column = {0.5: "remind_half_at", 0.9: "remind_ninety_at", 1.0: "due_at"}[fraction]
    when = getattr(request, column)
    assert when is not None
    return when - timezone.now() + dt.timedelta(seconds=30)


_minutes = iter(range(1, 10_000))


def _a_minute_passes() -> ScheduledRun:
    """What the scheduler's tick does at a new minute: one run of the deadlines job, enqueued."""
    due = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(days=1)
    with transaction.atomic():
        run = ScheduledRun.objects.create(
            job="expertise_deadlines",
            due_at=due + dt.timedelta(minutes=next(_minutes)),
            next_attempt_at=timezone.now(),
        )
        run_later(run.pk)
    return run


def _runs_done(runs: list[ScheduledRun]) -> bool:
    return ScheduledRun.objects.filter(
        pk__in=[r.pk for r in runs], status=WorkStatus.DONE
    ).count() == len(runs)


def _notices(step: str) -> dict[str, str]:
    """The notices of one step: receiver's username -> status."""
    rows = OutgoingMail.objects.filter(key__contains=f":{step}:").select_related("user")
    return {row.user.username: row.status for row in rows if row.user is not None}


def _received(smtp: Any) -> Counter[tuple[str, str]]:
    counted: Counter[tuple[str, str]] = Counter()
    for mail in smtp.received:
        parsed = email.message_from_bytes(mail["content"], policy=email.policy.default)
        for to in mail["rcpt_tos"]:
            counted[(to, str(parsed["Subject"]).strip())] += 1
    return counted


def _all_sent() -> bool:
    return not OutgoingMail.objects.exclude(status=SENT).exists()


def _subject(step: str) -> str:
    with override("fr"):
        return deadlines._subject(step)[0]


HALF, NINETY, LATE = _subject("half"), _subject("ninety"), _subject("late")


def test_nobody_answers_reminders_and_escalation_arrive_once_each_through_the_worker(
    transactional_db: Any,
    personas: Any,
    dermatology: Any,
    relay: Any,  # noqa: F811
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.TASKS = DATABASE_BACKEND
    relay.hold_next = False
    unclaimed = _ask(personas, dermatology)
    claimed = _ask(personas, dermatology)
    actions.claim(dermatology.first.user, claimed.uuid)
    members = {"dermato.un", "dermato.deux"}

    log = tmp_path / "worker.log"
    env = {**relay.env, "MAILLAGE_TASK_CLAIM_TIMEOUT": "2"}
    with worker(log, **env) as first:
        # The notices of the asking and the claim go out first.
        assert wait_for(_all_sent), first.output()
        before = len(relay.received)

        # Half the time passes; the scheduler ticks three times: one reminder each.
        for request in (unclaimed, claimed):
            _age(request, _until(request, 0.5))
        runs = [_a_minute_passes() for _ in range(3)]
        assert wait_for(lambda: _runs_done(runs)), first.output()
        assert wait_for(_all_sent), first.output()
        # The unclaimed request reminds each member who could take it; the claimed one its holder.
        assert set(_notices(f"{unclaimed.uuid}:half")) == members
        assert set(_notices(f"{claimed.uuid}:half")) == {"dermato.un"}
        assert _notices(f"{unclaimed.uuid}:ninety") == {}
        assert len(relay.received) == before + 3

        # 90 % passes; the relay holds the first reminder and the worker dies while it does.
        relay.hold_next = True
        for request in (unclaimed, claimed):
            _age(request, _until(request, 0.9))
        runs = [_a_minute_passes() for _ in range(2)]
        assert relay.holding.wait(60), first.output()
        first.kill()
    relay.release.set()
    held = OutgoingMail.objects.filter(status=SENDING)
    assert held.count() == 1 and ":ninety:" in held.get().key

    with worker(log, **env) as second:
        runs += [_a_minute_passes() for _ in range(2)]
        assert wait_for(lambda: _runs_done(runs)), second.output()
        assert wait_for(_all_sent), second.output()
        assert set(_notices(f"{unclaimed.uuid}:ninety")) == members
        assert set(_notices(f"{claimed.uuid}:ninety")) == {"dermato.un"}

        # Late: the pool's other members, its coordinator and the requester are told.
        for request in (unclaimed, claimed):
            _age(request, _until(request, 1.0))
        runs = [_a_minute_passes() for _ in range(3)]
        assert wait_for(lambda: _runs_done(runs)), second.output()
        assert wait_for(_all_sent), second.output()
        # Further minutes pass: nothing more is sent.
        runs = [_a_minute_passes() for _ in range(2)]
        assert wait_for(lambda: _runs_done(runs)), second.output()
        assert not wait_for(lambda: not _all_sent(), seconds=2)
        assert second.stop() == 0, second.output()

    assert set(_notices(f"{unclaimed.uuid}:late")) == {
        *members,
        "dermato.coord",
        "medecin.traitant",
    }
    assert set(_notices(f"{claimed.uuid}:late")) == {
        "dermato.deux",
        "dermato.coord",
        "medecin.traitant",
    }
    # One row per step and receiver, each sent once; the relay got each once.
    keys = list(OutgoingMail.objects.filter(key__regex=r":(half|ninety|late):").values_list("key"))
    assert len(keys) == len(set(keys)) == 3 + 3 + 4 + 3
    received = _received(relay)
    address = "{}@example.org".format
    for who in members:
        assert received[(address(who), HALF)] == 1 + (who == "dermato.un")
        assert received[(address(who), NINETY)] == 1 + (who == "dermato.un")
    assert received[(address("dermato.un"), LATE)] == 1  # the unclaimed one only
    assert received[(address("dermato.deux"), LATE)] == 2
    assert received[(address("dermato.coord"), LATE)] == 2
    assert received[(address("medecin.traitant"), LATE)] == 2
    for request in (unclaimed, claimed):
        request.refresh_from_db()
        assert request.status in (Status.WAITING, Status.CLAIMED)
        assert request.half_sent_at and request.ninety_sent_at and request.late_sent_at
        assert request.is_late


@pytest.mark.django_db
def test_a_hold_pauses_the_clock_and_moves_its_times(personas: Any, dermatology: Any) -> None:
    request = _ask(personas, dermatology)
    specialist = dermatology.first.user
    actions.claim(specialist, request.uuid)
    actions.ask_for_more(specialist, request.uuid, "Depuis quand ? Traitements essayés ?")
    request.refresh_from_db()
    assert request.status == Status.ON_HOLD
    due_before = request.due_at
    assert due_before is not None

    # Twenty hours pass while the requester has not answered: half and 90 % are behind.
    held = dt.timedelta(hours=20)
    _age(request, held, *TIMES, "hold_started_at")
    assert deadlines.remind() == 0
    assert not OutgoingMail.objects.filter(key__regex=r":(half|ninety|late):").exists()

    actions.reply(personas.treating_doctor.user, request.uuid, "Trois semaines, dermocorticoïdes.")
    request.refresh_from_db()
    assert request.status == Status.CLAIMED and request.hold_started_at is None
    assert request.held_seconds >= held.total_seconds()
    # The 20 hours on hold are given back: the due time is where it was before.
    assert request.due_at is not None
    assert abs((request.due_at - due_before).total_seconds()) < 5
    assert request.remind_half_at is not None and request.remind_half_at > timezone.now()
    assert deadlines.remind() == 0

    # Time then runs: half of it passes (not on hold), the reminder goes, once.
    _age(request, _until(request, 0.5))
    assert deadlines.remind() == 1
    assert deadlines.remind() == 0
    assert set(_notices(f"{request.uuid}:half")) == {"dermato.un"}


@pytest.mark.django_db
def test_a_request_found_late_gets_the_escalation_not_the_earlier_reminders(
    personas: Any, dermatology: Any
) -> None:
    """The worker was down for the whole delay: one escalation, no stale half-way notice."""
    request = _ask(personas, dermatology)
    _age(request, _until(request, 1.0))
    assert deadlines.remind() == 1
    assert deadlines.remind() == 0
    request.refresh_from_db()
    assert request.late_sent_at and request.ninety_sent_at and request.half_sent_at
    assert _notices(f"{request.uuid}:half") == {} and _notices(f"{request.uuid}:ninety") == {}
    assert set(_notices(f"{request.uuid}:late")) == {
        "dermato.un",
        "dermato.deux",
        "dermato.coord",
        "medecin.traitant",
    }


@pytest.mark.django_db
def test_a_concluded_or_cancelled_request_is_not_reminded(personas: Any, dermatology: Any) -> None:
    request = _ask(personas, dermatology)
    actions.cancel(personas.treating_doctor.user, request.uuid, "Vue en consultation.")
    _age(request, _until(request, 1.0))
    assert deadlines.remind() == 0
    assert not OutgoingMail.objects.filter(key__regex=r":(half|ninety|late):").exists()
