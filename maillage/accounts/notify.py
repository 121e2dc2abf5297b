"""Email notices to people: never any health data, only that something awaits and a link.

A notice is a row (``tasks.OutgoingMail``, one per idempotency key) written
with the caller's transaction and sent by the background worker once it
commits, with retries and backoff; never in the request. The relay (the
console in the demo) is reached by the worker only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from maillage.accounts.models import User


def absolute_url(path: str) -> str:
    base = (settings.MAILLAGE_PUBLIC_URL or "http://127.0.0.1:8000").rstrip("/")
    return f"{base}{path}"


def send_notice(
    user: User, subject: str, lines: list[str], path: str, *, key: str | None = None
) -> bool:
    """Queue a short notice with a link to ``path``; False when there is nowhere to send it.

    ``key`` makes the notice idempotent: asking twice with the same key (a task
    retried, a callback run again) queues one notice. Without it, each call is
    a notice of its own.
    """
    from maillage.tasks.mail import queue_notice

    if not user.email:
        return False
    body = "\n\n".join([*lines, absolute_url(path), "— Maillage"])
    queue_notice(user, subject, body, key=key)
    return True
