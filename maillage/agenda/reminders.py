"""Reminders 24 h and 1 h before each booked appointment, each sent exactly once.

Run every minute by the scheduler (``tasks.schedule``: one run per due
minute, claimed, swept, retried), this reads the clock, not its minute:
every booked appointment whose reminder time has come and whose reminder is
not yet marked sent is reminded now. "Once" is a conditional UPDATE of the
reminder's sent time (``reminder_24h_sent_at IS NULL``) in the transaction
that queues the notices and SMS (rows with idempotency keys, sent by the
worker after the commit): a run retried after a crash, or two runs at once,
send nothing twice. An appointment booked less than 24 h ahead gets only
the 1 h reminder (the 24 h one is closed with it, never sent late), and a
reminder past its appointment's start is not sent.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from maillage.agenda import notify
from maillage.agenda.models import Appointment, AppointmentStatus

BATCH = 500

# Latest first: (step, how long before the start, the sent column, earlier columns it closes).
STEPS: tuple[tuple[str, dt.timedelta, str, tuple[str, ...]], ...] = (
    ("1h", dt.timedelta(hours=1), "reminder_1h_sent_at", ("reminder_24h_sent_at",)),
    ("24h", dt.timedelta(hours=24), "reminder_24h_sent_at", ()),
)


def remind(due_at: dt.datetime | None = None) -> int:
    """Send every reminder due now, each once; how many appointments were reminded."""
    now = timezone.now()
    sent = 0
    for step, before, sent_field, earlier in STEPS:
        due = Appointment.objects.filter(
            status=AppointmentStatus.BOOKED,
            start__gt=now,
            start__lte=now + before,
            **{f"{sent_field}__isnull": True},
        ).values_list("pk", flat=True)[:BATCH]
        for pk in list(due):
            sent += _send_once(pk, step, sent_field, earlier, now)
    return sent


def _send_once(
    pk: int, step: str, sent_field: str, earlier: tuple[str, ...], now: dt.datetime
) -> int:
    with transaction.atomic():
        taken = Appointment.objects.filter(
            pk=pk, status=AppointmentStatus.BOOKED, **{f"{sent_field}__isnull": True}
        ).update(**{sent_field: now}, **{name: Coalesce(name, Value(now)) for name in earlier})
        if taken != 1:
            return 0
        appointment = Appointment.objects.select_related(
            "patient", "patient__user", "professional__user"
        ).get(pk=pk)
        notify.reminder(appointment, step, now)
    return 1
