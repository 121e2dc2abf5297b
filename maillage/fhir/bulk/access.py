"""The one way to a job or a file: the requester's own, else nothing (a refusal is a 404)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.utils import timezone

from maillage.fhir.bulk.models import ExportFile, ExportJob
from maillage.tasks.models import WorkStatus

if TYPE_CHECKING:
    from maillage.accounts.models import User


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def job_for(user: User, job_id: str) -> ExportJob | None:
    key = _uuid(job_id)
    if key is None:
        return None
    # Past its time, a job is gone for its requester too, before the upkeep deletes it.
    return (
        ExportJob.objects.filter(uuid=key, requester=user)
        .exclude(status=WorkStatus.DONE, expires_at__lte=timezone.now())
        .first()
    )


def file_for(user: User, file_id: str) -> ExportFile | None:
    """A file of a finished, unexpired job of the user's."""
    key = _uuid(file_id)
    if key is None:
        return None
    return (
        ExportFile.objects.select_related("job")
        .filter(
            uuid=key,
            job__requester=user,
            job__status=WorkStatus.DONE,
            job__expires_at__gt=timezone.now(),
        )
        .first()
    )


def active_jobs(user: User) -> int:
    return ExportJob.objects.filter(
        requester=user, status__in=[WorkStatus.PENDING, WorkStatus.RUNNING]
    ).count()
