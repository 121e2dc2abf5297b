"""Email notices to people: never any health data, only that something awaits and a link.

The notice goes through Django's mail backend (an SMTP relay in production,
the console in the demo); a failure to send is logged and never blocks the
action that caused it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation

if TYPE_CHECKING:
    from maillage.accounts.models import User

logger = logging.getLogger(__name__)


def absolute_url(path: str) -> str:
    base = (settings.MAILLAGE_PUBLIC_URL or "http://127.0.0.1:8000").rstrip("/")
    return f"{base}{path}"


def send_notice(user: User, subject: str, lines: list[str], path: str) -> bool:
    """Send a short notice with a link to ``path``; False when nothing was sent."""
    if not user.email:
        return False
    body = "\n\n".join([*lines, absolute_url(path), "— Maillage"])
    try:
        with translation.override(settings.LANGUAGE_CODE):
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except OSError:
        logger.exception("notice to user %s not sent", user.pk)
        return False
    return True
