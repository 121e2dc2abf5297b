"""SMS: a provider interface, a console backend by default, and rows sent exactly once.

``MAILLAGE_SMS_BACKEND`` names a class with ``send(to, body) -> provider id``
(raising ``SmsError`` when the provider refuses; ``permanent`` when trying
again would not help). The default writes the SMS to the log and to
``outbox`` (as Django's console and locmem mail backends do), so the demo
and the tests see what would leave. A real provider (an HTTP API such as
an aggregator's) is one small class behind the same interface.

Each SMS is a row (``OutgoingSms``) created in the caller's transaction,
once per idempotency key, and sent by the worker after the commit with a
claim (``tasks.claims``): a task delivered twice sends once; a worker that
died is replaced after the claim timeout (the scheduler's sweep finds the
row: ``sweep`` is in ``tasks.schedule.SWEEPS``).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string
from django_tasks import task

from maillage.agenda.models import OutgoingSms
from maillage.tasks import claims
from maillage.tasks.queue import later

logger = logging.getLogger(__name__)

DEFAULT_BACKEND = "maillage.agenda.sms.ConsoleSmsBackend"


class SmsError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class SmsBackend(Protocol):
    def send(self, to: str, body: str) -> str: ...


# What the console backend "sent", for the demo's eyes and the tests (like mail.outbox).
outbox: list[tuple[str, str]] = []


class ConsoleSmsBackend:
    """Writes the SMS to the log instead of sending it."""

    def send(self, to: str, body: str) -> str:
        outbox.append((to, body))
        logger.info("SMS to %s: %s", to, body)
        return f"console-{uuid.uuid4()}"


def backend() -> SmsBackend:
    path = getattr(settings, "MAILLAGE_SMS_BACKEND", "") or DEFAULT_BACKEND
    backend: SmsBackend = import_string(path)()
    return backend


def normalise(number: str) -> str:
    """A French number as +33…; '' when it is not one we can text."""
    digits = "".join(c for c in number if c.isdigit() or c == "+")
    if digits.startswith("+"):
        return digits if len(digits) >= 11 else ""
    if len(digits) == 10 and digits.startswith("0"):
        return "+33" + digits[1:]
    return ""


def queue_sms(to: str, body: str, *, key: str, user_id: int | None = None) -> OutgoingSms | None:
    """An SMS row, once per key; sent by the worker when the caller's transaction commits."""
    number = normalise(to)
    if not number:
        return None
    with transaction.atomic():
        row, created = OutgoingSms.objects.get_or_create(
            key=key[:200], defaults={"to_number": number, "body": body[:480], "user_id": user_id}
        )
    if created:
        later(send_sms, OutgoingSms, row.pk)
    return row


def deliver(pk: int) -> str:
    """One attempt at one SMS: claim it, hand it to the provider, record the answer."""
    row = claims.claim(OutgoingSms, pk)
    if row is None:
        return "not claimed"
    try:
        provider_id = backend().send(row.to_number, row.body)
    except SmsError as error:
        return claims.fail(row, str(error), permanent=error.permanent)
    except Exception as error:
        logger.exception("outgoing SMS %s: attempt failed", pk)
        return claims.fail(row, type(error).__name__, permanent=False)
    claims.finish(row, provider_id=provider_id[:100])
    return row.status


@task()
def send_sms(pk: int) -> str:
    from maillage.audit.context import audit_context
    from maillage.audit.models import Channel

    with audit_context(Channel.TASK):
        return deliver(pk)


def sweep(now: dt.datetime) -> int:
    """The scheduler's sweep for SMS rows due again or held by a dead attempt."""
    from maillage.tasks.schedule import sweep_rows

    return sweep_rows(OutgoingSms, lambda pk: later(send_sms, OutgoingSms, pk), now)
