"""Storing and sending events: ``publish`` and what the consumer and the bell read.

An event is stored with the next sequence number of its user in the
caller's transaction, and sent to the user's group only after the commit
(``transaction.on_commit``): a rolled-back write leaves neither a row nor a
frame, and a send that fails after the commit loses nothing, since the
client resumes from the stored rows.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TypedDict

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.realtime.envelopes import JsonValue
from maillage.realtime.layer import send_to_group
from maillage.realtime.models import EventStream, UserEvent

logger = logging.getLogger(__name__)

MESSAGE_NEW = "message.new"
# A background worker delivered (or gave up) a message to an outside address.
DELIVERY_STATUS = "delivery.status"
# A tele-expertise request changed (asked, taken, answered, late...): its id and step.
EXPERTISE_CHANGED = "expertise.changed"
# An appointment was booked, moved, cancelled or is due soon: its id and step.
APPOINTMENT_CHANGED = "appointment.changed"
# Every kind an event may have, with its label on the notifications page.
# Its data hold identifiers and counts only (the consumer asks the policy
# for anything more, for the receiver, when it sends).
KINDS = {
    MESSAGE_NEW: _("New message in a conversation"),
    DELIVERY_STATUS: _("A message left Maillage, or could not"),
    EXPERTISE_CHANGED: _("A tele-expertise request changed"),
    APPOINTMENT_CHANGED: _("An appointment changed"),
}
# A reconnecting client gets at most this many events; beyond, it reloads.
RESUME_LIMIT = 500


class MessageNew(TypedDict):
    thread: str
    count: int


class GroupEvent(TypedDict):
    """What travels through the channel layer to the user's sockets."""

    type: str  # the consumer's handler: "realtime.event"
    seq: int
    kind: str
    data: dict[str, JsonValue]


# Sends scheduled on a running loop, kept referenced until they are done.


def group_name(user_id: int) -> str:
    return f"realtime.user.{user_id}"


def _next_seq(user_id: int) -> int:
    """The user's next number; the UPDATE holds the row lock until the commit."""
    if not EventStream.objects.filter(user_id=user_id).update(last_seq=F("last_seq") + 1):
        try:
            with transaction.atomic():
                EventStream.objects.create(user_id=user_id, last_seq=1)
            return 1
        except IntegrityError:
            # Another transaction created the row meanwhile: take the next number after it.
            EventStream.objects.filter(user_id=user_id).update(last_seq=F("last_seq") + 1)
    return int(EventStream.objects.filter(user_id=user_id).values_list("last_seq", flat=True)[0])


def publish(user_id: int, kind: str, data: dict[str, JsonValue]) -> int:
    """Store an event for the user and send it after the commit; its seq."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    now = timezone.now()
    with transaction.atomic():
        seq = _next_seq(user_id)
        UserEvent.objects.create(user_id=user_id, seq=seq, kind=kind, data=data, created_at=now)
        _prune_user(user_id, now)
    message: GroupEvent = {"type": "realtime.event", "seq": seq, "kind": kind, "data": data}
    transaction.on_commit(lambda: _send(user_id, message))
    return seq


def _send(user_id: int, message: GroupEvent) -> None:
    """After the commit: a failure is logged, never raised (the client will resume)."""
    try:
        send_to_group(group_name(user_id), dict(message))
    except Exception:
        logger.exception("could not send event %s of user %s", message["seq"], user_id)


def keep_for() -> dt.timedelta:
    return dt.timedelta(hours=settings.MAILLAGE_REALTIME_KEEP_HOURS)


def _prune_user(user_id: int, now: dt.datetime) -> None:
    """Each publish drops its user's expired events: no scheduler needed to stay bounded."""
    UserEvent.objects.filter(user_id=user_id, created_at__lt=now - keep_for()).delete()


def prune(now: dt.datetime | None = None) -> int:
    """Drop every expired event (the command); how many."""
    cutoff = (now or timezone.now()) - keep_for()
    deleted, _by_model = UserEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def last_seq(user_id: int) -> int:
    value = EventStream.objects.filter(user_id=user_id).values_list("last_seq", flat=True).first()
    return int(value or 0)


class Resume(TypedDict):
    last_seq: int
    # Events after the client's seq were pruned, or there are too many: the
    # client cannot be brought up to date event by event and reloads.
    missed: bool
    events: list[UserEvent]


def resume_after(user_id: int, after: int) -> Resume:
    """What a client that has seen ``after`` missed, in order."""
    current = last_seq(user_id)
    if after >= current:
        return {"last_seq": current, "missed": after > current, "events": []}
    events = list(
        UserEvent.objects.filter(user_id=user_id, seq__gt=after).order_by("seq")[: RESUME_LIMIT + 1]
    )
    first = events[0].seq if events else current + 1
    missed = first != after + 1 or len(events) > RESUME_LIMIT
    return {"last_seq": current, "missed": missed, "events": events[:RESUME_LIMIT]}


def events_between(user_id: int, after: int, upto: int) -> list[UserEvent]:
    """Events with after < seq < upto: a live event overtook them on the layer."""
    return list(
        UserEvent.objects.filter(user_id=user_id, seq__gt=after, seq__lt=upto).order_by("seq")
    )


def unseen_count(user_id: int) -> int:
    """The bell: events since the user last opened the notifications."""
    seen = EventStream.objects.filter(user_id=user_id).values_list("seen_seq", flat=True).first()
    return UserEvent.objects.filter(user_id=user_id, seq__gt=seen or 0).count()


class Bell(TypedDict):
    unseen: int
    last_seq: int


def bell(user_id: int) -> Bell:
    """The header's bell in one query: events not seen yet, and the seq a page resumes from.

    Every page shows it; two lookups of the stream and a count were three of
    a list page's round trips.
    """
    unseen = (
        UserEvent.objects.filter(user_id=OuterRef("user_id"), seq__gt=OuterRef("seen_seq"))
        .values("user_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    found = (
        EventStream.objects.filter(user_id=user_id)
        .annotate(unseen=Coalesce(Subquery(unseen), Value(0)))
        .values_list("unseen", "last_seq")
        .first()
    )
    if found is None:
        # No stream yet: nothing was ever published to this user (``publish``
        # makes the stream with the first event).
        return {"unseen": 0, "last_seq": 0}
    return {"unseen": int(found[0]), "last_seq": int(found[1])}


def recent(user_id: int, limit: int = 50) -> list[UserEvent]:
    return list(UserEvent.objects.filter(user_id=user_id).order_by("-seq")[:limit])


def mark_seen(user_id: int) -> None:
    EventStream.objects.filter(user_id=user_id).update(seen_seq=F("last_seq"))
