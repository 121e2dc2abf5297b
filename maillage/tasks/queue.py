"""Putting work in the queue: only ids, only after the commit that wrote the row.

The backend is ``settings.TASKS`` (the database by default, RQ when
``REDIS_URL`` is set, the caller itself under the test suite). Losing an
enqueue loses nothing: the row stays pending and the scheduler's sweep
(``schedule.sweep``) enqueues it again.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from maillage.tasks.models import Claimable, OutgoingMail, ScheduledRun

logger = logging.getLogger(__name__)


def _enqueue(task: Any, pk: int) -> None:
    try:
        task.enqueue(pk)
    except Exception:
        # The queue is down (Redis restarting...): the sweep enqueues the row later.
        logger.exception("could not enqueue %s for %s", task.name, pk)


def later(task: Any, model: type[Claimable], pk: int) -> None:
    """Enqueue ``task(pk)`` on commit; the row says it was enqueued (other claimed work too)."""
    # Marked now, in the caller's transaction, so that the sweep does not enqueue it again.
    model._default_manager.filter(pk=pk).update(enqueued_at=timezone.now())
    transaction.on_commit(lambda: _enqueue(task, pk))


def send_mail_later(pk: int) -> None:
    """Send this outgoing mail once the current transaction commits."""
    from maillage.tasks.tasks import send_outgoing

    later(send_outgoing, OutgoingMail, pk)


def run_later(pk: int) -> None:
    """Run this scheduled run once the current transaction commits."""
    from maillage.tasks.tasks import run_scheduled

    later(run_scheduled, ScheduledRun, pk)
