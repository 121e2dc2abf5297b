"""What a receiver may be told beyond an event's identifiers, asked of the policy when sent.

A stored event holds a thread id and a count; the inbox row (subject,
participants, time) is added only when ``policy.messages.get_thread``
grants the thread to the receiver now (a refusal is audited on the patient
and the frame goes without detail), and the row itself comes from the
inbox query, which lists only what the policy lets the user read.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext

from maillage.accounts.models import User
from maillage.audit.context import audit_context
from maillage.audit.models import Action, Channel
from maillage.messaging import queries
from maillage.policy.messages import ThreadNotFound, get_thread
from maillage.realtime.envelopes import JsonValue
from maillage.realtime.events import MESSAGE_NEW


def detail_for(
    user: User, kind: str, data: dict[str, JsonValue], ip: str | None
) -> dict[str, JsonValue]:
    """The extra fields this receiver may see for this event, possibly none."""
    if kind == MESSAGE_NEW:
        return _inbox_row(user, data.get("thread"), ip)
    return {}


def _inbox_row(user: User, thread_uuid: JsonValue, ip: str | None) -> dict[str, JsonValue]:
    with audit_context(Channel.WEB, ip):
        try:
            thread = get_thread(user, thread_uuid, purpose=Action.MESSAGE_LIVE)
        except ThreadNotFound:
            return {}
    row = queries.inbox(user).filter(pk=thread.pk).first()
    if row is None:
        return {}
    unread = bool(getattr(row, "unread", False))
    about_patient = row.patient_id is not None
    others = ", ".join(p.label for p in row.participants.all() if p.user_id != user.pk)
    # The row's tags as the inbox page writes them, in the receiver's language.
    tags: list[JsonValue] = []
    if unread:
        tags.append({"text": gettext("unread"), "warn": True})
    if about_patient:
        tags.append({"text": gettext("about a patient"), "warn": False})
    return {
        "row": {
            "subject": row.subject,
            "others": others,
            "at": date_format(localtime(row.last_message_at), "d/m/Y H:i"),
            "unread": unread,
            "about_patient": about_patient,
            "tags": tags,
            "url": reverse("messaging:thread", kwargs={"uuid": row.uuid}),
        }
    }
