"""Claiming a row before acting, and writing its outcome only while the claim is ours.

As healthchecks' ``sendalerts`` does, a worker takes a row with one
conditional UPDATE that must touch exactly one row: the row is due and
pending, or it was claimed by an attempt older than the claim timeout (that
worker died: SIGKILL, power loss, a lost container). Every later write of
the worker is conditioned on its attempt id, so a worker that was presumed
dead and comes back cannot overwrite the outcome of the one that took over.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TypeVar

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from maillage.tasks.models import Claimable, WorkStatus

C = TypeVar("C", bound=Claimable)

# Backoff between attempts: 1, 5, 15, 60 minutes, then every 3 hours.
BACKOFF_MINUTES = (1, 5, 15, 60, 180)


def claim_timeout() -> dt.timedelta:
    return dt.timedelta(seconds=settings.MAILLAGE_TASK_CLAIM_TIMEOUT)


def max_attempts() -> int:
    return int(settings.MAILLAGE_TASK_MAX_ATTEMPTS)


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    index = min(max(attempts, 1), len(BACKOFF_MINUTES)) - 1
    return dt.timedelta(minutes=BACKOFF_MINUTES[index])


def claimable_q(now: dt.datetime) -> Q:
    """Due and pending, or claimed by an attempt that outlived the timeout (attempts left)."""
    return Q(status=WorkStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=WorkStatus.RUNNING,
        claimed_at__lt=now - claim_timeout(),
        attempts__lt=max_attempts(),
    )


def abandoned_q(now: dt.datetime) -> Q:
    """Its worker died during every attempt (a mail that kills the worker, say): give up."""
    return Q(
        status=WorkStatus.RUNNING,
        claimed_at__lt=now - claim_timeout(),
        attempts__gte=max_attempts(),
    )


def claim(model: type[C], pk: int) -> C | None:
    """Take the row for a new attempt; None when it is not ours to take (done, or held)."""
    now = timezone.now()
    attempt = uuid.uuid4()
    taken = model._default_manager.filter(claimable_q(now), pk=pk).update(
        status=WorkStatus.RUNNING,
        attempt=attempt,
        claimed_at=now,
        attempts=F("attempts") + 1,
    )
    if taken != 1:
        return None
    return model._default_manager.get(pk=pk, attempt=attempt)


def finish(row: Claimable, **fields: object) -> bool:
    """The attempt succeeded; False if the claim was lost meanwhile (another attempt took over)."""
    return _write(row, status=WorkStatus.DONE, finished_at=timezone.now(), error="", **fields)


def fail(row: Claimable, error: str, *, permanent: bool) -> str:
    """The attempt failed: retry later with backoff, or give up. Returns the new status."""
    now = timezone.now()
    if permanent or row.attempts >= max_attempts():
        _write(row, status=WorkStatus.FAILED, finished_at=now, error=error[:2000])
        return WorkStatus.FAILED
    _write(
        row,
        status=WorkStatus.PENDING,
        next_attempt_at=now + backoff(row.attempts),
        error=error[:2000],
    )
    return WorkStatus.PENDING


def note(row: Claimable, **fields: object) -> bool:
    """Write fields of a running attempt (its progress); False if the claim was lost."""
    return _write(row, **fields)


def _write(row: Claimable, **fields: object) -> bool:
    written = (
        type(row)
        ._default_manager.filter(pk=row.pk, attempt=row.attempt, status=WorkStatus.RUNNING)
        .update(**fields)
    )
    for name, value in fields.items():
        setattr(row, name, value)
    return written == 1
