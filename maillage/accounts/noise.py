"""Anonymous noise: failures nobody can be named for, audited without flooding the trail.

A bogus bearer token or an unknown user name at sign-in says nothing about a
patient; one audit entry each would let anyone append millions of rows. Per
source address and kind, the first few of a time window are audited one by
one, the rest only counted, and one summary entry gives the count once the
window has closed (written by the next failure of any source, or by
``manage.py close_noise_windows``). The counters live in the database so that
every worker of the server shares them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from maillage.accounts.models import NoiseWindow
from maillage.audit import context
from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome

# Closed windows are kept a day for the summary, then removed.
_KEEP = dt.timedelta(days=1)


def window_length() -> dt.timedelta:
    return dt.timedelta(seconds=settings.MAILLAGE_NOISE_WINDOW_SECONDS)


def _window_start(now: dt.datetime) -> dt.datetime:
    length = int(window_length().total_seconds())
    epoch = int(now.timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % length, tz=dt.UTC)


def _count(kind: str, source: str, start: dt.datetime) -> int:
    """Add one to this window's counter (made on first use) and return the new count."""
    key = {"kind": kind, "source": source, "window_start": start}
    if not NoiseWindow.objects.filter(**key).update(count=F("count") + 1):
        try:
            with transaction.atomic():
                NoiseWindow.objects.create(**key, count=1)
                return 1
        except IntegrityError:  # another worker made it first
            NoiseWindow.objects.filter(**key).update(count=F("count") + 1)
    return NoiseWindow.objects.get(**key).count


def close_windows(now: dt.datetime | None = None) -> int:
    """Write one summary entry per closed window that had failures left unaudited."""
    now = now or timezone.now()
    current = _window_start(now)
    limit = settings.MAILLAGE_NOISE_AUDITED_PER_WINDOW
    written = 0
    closed = NoiseWindow.objects.filter(summarized=False, window_start__lt=current)
    for window in closed.filter(count__gt=limit).order_by("window_start")[:100]:
        # The conditional UPDATE is the claim: only one worker writes the summary.
        if not NoiseWindow.objects.filter(pk=window.pk, summarized=False).update(summarized=True):
            continue
        with context.audit_context(context.current().channel, window.source or None):
            record(
                None,
                Event(
                    action=Action.NOISE_SUMMARY,
                    outcome=Outcome.DENIED,
                    detail={
                        "kind": window.kind,
                        "count": window.count,
                        "unaudited": window.count - limit,
                        "from": window.window_start.isoformat(),
                        "to": (window.window_start + window_length()).isoformat(),
                        "rule": "anonymous_noise",
                    },
                ),
            )
        written += 1
    closed.filter(count__lte=limit).update(summarized=True)
    NoiseWindow.objects.filter(summarized=True, window_start__lt=now - _KEEP).delete()
    return written


def anonymous_failure(kind: str, action: str, detail: Mapping[str, Any] | None = None) -> bool:
    """Count one anonymous failure; audit it only while under the window's limit.

    Returns True when an entry of its own was written. Never about a patient.
    """
    now = timezone.now()
    source = context.current().ip or ""
    with transaction.atomic():
        count = _count(kind, source, _window_start(now))
    close_windows(now)
    if count > settings.MAILLAGE_NOISE_AUDITED_PER_WINDOW:
        return False
    record(
        None,
        Event(action=action, outcome=Outcome.DENIED, detail={**(detail or {}), "rule": kind}),
    )
    return True
