"""The export task: it carries a job's id only; the row is the truth (``maillage.tasks``)."""

from __future__ import annotations

from django_tasks import task

from maillage.audit.context import audit_context
from maillage.audit.models import Channel


@task()
def run_export(pk: int) -> str:
    from maillage.fhir.bulk.build import run

    with audit_context(Channel.TASK):
        return run(pk)


def export_later(pk: int) -> None:
    """Run this export once the current transaction commits."""
    from maillage.fhir.bulk.models import ExportJob
    from maillage.tasks.queue import later

    later(run_export, ExportJob, pk)
