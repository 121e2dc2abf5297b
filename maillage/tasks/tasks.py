"""The tasks the queue carries: each takes a row id and does one claimed attempt on it."""

from __future__ import annotations

from django_tasks import task

from maillage.audit.context import audit_context
from maillage.audit.models import Channel


@task()
def send_outgoing(pk: int) -> str:
    from maillage.tasks.mail import deliver

    with audit_context(Channel.TASK):
        return deliver(pk)


@task()
def run_scheduled(pk: int) -> str:
    from maillage.tasks.schedule import run

    with audit_context(Channel.TASK):
        return run(pk)
