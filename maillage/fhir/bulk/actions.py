"""The writers of export jobs: start one (audited, enqueued on commit), cancel one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction

from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome
from maillage.fhir.bulk import storage
from maillage.fhir.bulk.models import ExportJob
from maillage.fhir.bulk.tasks import export_later

if TYPE_CHECKING:
    from maillage.accounts.models import User


def start_export(
    user: User,
    kind: str,
    *,
    types: Sequence[str],
    since: dt.datetime | None,
    request_url: str,
    base_url: str,
) -> ExportJob:
    """A job, its entry on the requester's trail (no patient yet: each gets hers when exported)."""
    with transaction.atomic():
        job = ExportJob.objects.create(
            requester=user,
            kind=kind,
            types=list(types),
            since=since,
            request_url=request_url,
            base_url=base_url,
        )
        record(
            user,
            Event(
                action=Action.BULK_EXPORT,
                detail={
                    "job": str(job.uuid),
                    "step": "requested",
                    "level": kind,
                    "types": list(types),
                },
            ),
        )
        export_later(job.pk)
    return job


def cancel_export(user: User, job: ExportJob) -> None:
    """Delete the job and its files; a running attempt then finds its claim gone and cleans up."""
    job_uuid = job.uuid
    with transaction.atomic():
        deleted, _rows = ExportJob.objects.filter(pk=job.pk).delete()
        # Gone already (the expiry upkeep came first): nothing was cancelled.
        record(
            user,
            Event(
                action=Action.BULK_EXPORT,
                outcome=Outcome.GRANTED if deleted else Outcome.FAILED,
                detail={"job": str(job_uuid), "step": "cancelled" if deleted else "already_gone"},
            ),
        )
    storage.remove_job(job_uuid)
