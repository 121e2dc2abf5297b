"""The upkeep of exports: nothing left in the queue, nothing kept past its time.

Both idempotent: a job already enqueued is not enqueued again, and what is
deleted stays deleted.

- ``sweep_exports`` runs at every tick of the scheduler, beside the sweep of
  mail and runs (``maillage.tasks.schedule.SWEEPS``): export jobs pending or
  held by a dead attempt are enqueued again; a job whose worker died during
  every attempt is marked failed;
- ``expire`` runs hourly (``maillage.tasks.schedule.JOBS``): a finished job
  past ``expires_at``, a failed one older than the export time, and a job
  never finished after ``STALE_DAYS`` are deleted with their files; their
  status URL then answers 404.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from maillage.fhir.bulk import storage
from maillage.fhir.bulk.build import expiry
from maillage.fhir.bulk.models import ExportJob
from maillage.fhir.bulk.tasks import export_later
from maillage.tasks import claims
from maillage.tasks.models import WorkStatus
from maillage.tasks.schedule import sweep_rows

STALE_DAYS = 7


def sweep_exports(now: dt.datetime) -> int:
    """Enqueue the export jobs due again; give up on those every attempt of which died."""
    count = sweep_rows(ExportJob, export_later, now)
    ExportJob.objects.filter(claims.abandoned_q(now)).update(
        status=WorkStatus.FAILED,
        finished_at=now,
        error="its worker stopped during every attempt",
    )
    return count


def expired_q(now: dt.datetime) -> Q:
    return (
        Q(status=WorkStatus.DONE, expires_at__lte=now)
        | Q(status=WorkStatus.FAILED, finished_at__lte=now - expiry())
        | Q(created_at__lte=now - dt.timedelta(days=STALE_DAYS))
    )


def expire(now: dt.datetime) -> int:
    """Delete the jobs past their time with their files; how many were deleted."""
    count = 0
    for pk, job_uuid in ExportJob.objects.filter(expired_q(now)).values_list("pk", "uuid"):
        # Rows first: a file without its row is never served, a row without its file would be.
        ExportJob.objects.filter(pk=pk).delete()
        storage.remove_job(job_uuid)
        count += 1
    return count
