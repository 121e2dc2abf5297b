"""The clock of every open request: reminders at 50 % and 90 % of its time, escalation when late.

Run every minute by the scheduler (``tasks.schedule``: one run per due
minute, claimed, swept and retried), this reads the state of the world, not
its minute: whatever is due and not yet sent is sent now, once. "Once" is a
conditional UPDATE of the step's sent time (``half_sent_at IS NULL``) in the
transaction that queues the notices (``tasks.mail`` rows with idempotency
keys), so a run retried after a crash, or two runs at once, send nothing
twice. A request on hold is not reminded: its clock is paused, and its
times move when the hold ends (``actions._end_hold``).

The notices carry no health data: that a request awaits, and a link.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from maillage.accounts.models import User
from maillage.expertise import actions, notify
from maillage.expertise.actions import pool_responders
from maillage.expertise.models import RUNNING_STATUSES, Request
from maillage.realtime.events import EXPERTISE_CHANGED, publish

BATCH = 500


def _holders(request: Request) -> list[User]:
    """Who must answer: the assigned specialist, or, while nobody took it, the pool's responders."""
    if request.assignee is not None:
        return [request.assignee.user] if request.assignee.user is not None else []
    if request.pool is None:
        return []
    return [entry.user for entry in pool_responders(request.pool) if entry.user is not None]


def _late_users(request: Request) -> list[User]:
    """When late: the pool's other responders, its coordinators and the requester."""
    users: dict[int, User] = {request.requester_id: request.requester}
    if request.pool is not None:
        for entry in pool_responders(request.pool):
            if entry.user is not None and entry.pk != request.assignee_id:
                users[entry.user.pk] = entry.user
    for user in notify.coordinators(request):
        users[user.pk] = user
    return list(users.values())


# The steps, latest first: the time column, the sent column, who is told. A step
# sent also closes the earlier ones not sent yet (the worker was down, or the
# request came back from a hold already late): a late request gets the
# escalation, not a "half-way" reminder in the same minute.
STEPS: tuple[tuple[str, str, str, Callable[[Request], list[User]]], ...] = (
    ("late", "due_at", "late_sent_at", _late_users),
    ("ninety", "remind_ninety_at", "ninety_sent_at", _holders),
    ("half", "remind_half_at", "half_sent_at", _holders),
)
SENT_FIELDS = tuple(sent for _step, _at, sent, _who in STEPS)


def _subject(step: str) -> tuple[str, str]:
    if step == "late":
        return (
            _("Maillage: a tele-expertise request is late"),
            _("A tele-expertise request has passed its due time without a conclusion."),
        )
    if step == "ninety":
        return (
            _("Maillage: a tele-expertise request is nearly due"),
            _("A tele-expertise request waiting for you is due soon."),
        )
    return (
        _("Maillage: half the time of a tele-expertise request has passed"),
        _("A tele-expertise request waiting for you is half-way to its due time."),
    )


def remind(due_at: dt.datetime | None = None) -> int:
    """Send every reminder and escalation due now, each once; how many were sent.

    ``due_at`` is the scheduled minute, unused: the job reads the clock, so a
    run that comes late (the worker was down) still sends what is due now.
    """
    now = timezone.now()
    sent = 0
    with override("fr"):
        # First, what no reminder could move: a request its specialist may no longer read.
        actions.release_opposed()
        for step, at_field, sent_field, receivers in STEPS:
            due = Request.objects.filter(
                status__in=RUNNING_STATUSES,
                **{f"{at_field}__lte": now, f"{sent_field}__isnull": True},
            ).values_list("pk", flat=True)[:BATCH]
            for pk in list(due):
                sent += _send_once(pk, step, sent_field, receivers, now)
    return sent


def _send_once(
    pk: int,
    step: str,
    sent_field: str,
    receivers: Callable[[Request], list[User]],
    now: dt.datetime,
) -> int:
    with transaction.atomic():
        earlier = SENT_FIELDS[SENT_FIELDS.index(sent_field) + 1 :]
        taken = Request.objects.filter(
            pk=pk, status__in=RUNNING_STATUSES, **{f"{sent_field}__isnull": True}
        ).update(**{sent_field: now}, **{name: Coalesce(name, Value(now)) for name in earlier})
        if taken != 1:
            return 0
        request = Request.objects.select_related("requester", "assignee__user", "pool").get(pk=pk)
        subject, line = _subject(step)
        for user in receivers(request):
            notify.send_notice(
                user,
                subject,
                [line],
                notify.path_of(request),
                key=f"expertise:{request.uuid}:{step}:{user.pk}",
            )
            publish(user.pk, EXPERTISE_CHANGED, {"request": str(request.uuid), "step": step})
    return 1
