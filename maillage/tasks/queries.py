"""What the administrators' page shows: counts and lists of queued, running, failed work."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

from maillage.tasks import claims
from maillage.tasks.models import OutgoingMail, ScheduledRun, WorkStatus
from maillage.tasks.schedule import Periodic, jobs

LIST_LIMIT = 20


def backend_kind() -> str:
    """Which backend the default queue is: database, rq or immediate."""
    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    path = f"{type(backend).__module__}.{type(backend).__name__}"
    if path.startswith("django_tasks_db."):
        return "database"
    if path.startswith("django_tasks_rq."):
        return "rq"
    return "immediate"


@dataclass(frozen=True)
class Counts:
    queued: int = 0
    running: int = 0
    failed: int = 0
    done: int = 0
    retried: int = 0


@dataclass(frozen=True)
class TaskRow:
    name: str
    status: str
    at: dt.datetime | None
    error: str = ""
    stalled: bool = False


@dataclass(frozen=True)
class JobRow:
    job: Periodic
    last: ScheduledRun | None


@dataclass
class Overview:
    backend: str
    queue: Counts | None
    mail: Counts
    runs: Counts
    failed_tasks: list[TaskRow] = field(default_factory=list)
    running_tasks: list[TaskRow] = field(default_factory=list)
    failed_mail: list[OutgoingMail] = field(default_factory=list)
    retried_mail: list[OutgoingMail] = field(default_factory=list)
    failed_runs: list[ScheduledRun] = field(default_factory=list)
    jobs: list[JobRow] = field(default_factory=list)


def _claimable_counts(model: type[OutgoingMail] | type[ScheduledRun]) -> Counts:
    counts: dict[str, Any] = model._default_manager.aggregate(
        queued=Count("pk", filter=Q(status=WorkStatus.PENDING)),
        running=Count("pk", filter=Q(status=WorkStatus.RUNNING)),
        failed=Count("pk", filter=Q(status=WorkStatus.FAILED)),
        done=Count("pk", filter=Q(status=WorkStatus.DONE)),
        retried=Count("pk", filter=Q(attempts__gt=1) | Q(status=WorkStatus.PENDING, attempts=1)),
    )
    return Counts(**counts)


def _database_queue() -> tuple[Counts, list[TaskRow], list[TaskRow]]:
    from django_tasks_db.models import DBTaskResult

    counts: dict[str, Any] = DBTaskResult.objects.aggregate(
        queued=Count("pk", filter=Q(status="READY")),
        running=Count("pk", filter=Q(status="RUNNING")),
        failed=Count("pk", filter=Q(status="FAILED")),
        done=Count("pk", filter=Q(status="SUCCESSFUL")),
    )
    stale = timezone.now() - claims.claim_timeout()
    failed = [
        TaskRow(r.task_path.rsplit(".", 1)[-1], r.status, r.finished_at, r.exception_class_path)
        for r in DBTaskResult.objects.failed().order_by("-finished_at")[:LIST_LIMIT]
    ]
    running = [
        TaskRow(
            r.task_path.rsplit(".", 1)[-1],
            r.status,
            r.started_at,
            stalled=r.started_at is not None and r.started_at < stale,
        )
        for r in DBTaskResult.objects.running().order_by("started_at")[:LIST_LIMIT]
    ]
    return Counts(**counts), failed, running


def _rq_queue() -> Counts:
    import django_rq

    queue = django_rq.get_queue("default")
    return Counts(
        queued=queue.count,
        running=queue.started_job_registry.count,
        failed=queue.failed_job_registry.count,
        done=queue.finished_job_registry.count,
    )


def overview() -> Overview:
    kind = backend_kind()
    result = Overview(
        backend=kind,
        queue=None,
        mail=_claimable_counts(OutgoingMail),
        runs=_claimable_counts(ScheduledRun),
    )
    if kind == "database":
        result.queue, result.failed_tasks, result.running_tasks = _database_queue()
    elif kind == "rq":
        result.queue = _rq_queue()
    result.failed_mail = list(
        OutgoingMail.objects.filter(status=WorkStatus.FAILED).order_by("-finished_at")[:LIST_LIMIT]
    )
    result.retried_mail = list(
        OutgoingMail.objects.filter(status=WorkStatus.PENDING, attempts__gte=1).order_by(
            "next_attempt_at"
        )[:LIST_LIMIT]
    )
    result.failed_runs = list(
        ScheduledRun.objects.filter(
            Q(status=WorkStatus.FAILED) | Q(status=WorkStatus.PENDING, attempts__gte=1)
        )[:LIST_LIMIT]
    )
    result.jobs = [
        JobRow(job, ScheduledRun.objects.filter(job=job.name).order_by("-due_at").first())
        for job in jobs()
    ]
    return result
