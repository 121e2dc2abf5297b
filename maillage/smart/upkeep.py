"""Periodic upkeep: expired OAuth tokens, codes and spent refresh tokens are deleted."""

from __future__ import annotations

import datetime as dt

from oauth2_provider.models import clear_expired


def clear_expired_tokens(due_at: dt.datetime) -> None:
    """Idempotent: deletes what has expired; run twice, the second deletes nothing."""
    clear_expired()
