"""A secure message to FHIR Communication: one Communication per Message.

- ``status`` is always completed: a message exists once sent (the SMTP
  status of outside recipients is not a FHIR status; see the messaging pages);
- ``subject`` is the patient the thread is about, if any; ``topic`` the
  thread's subject line;
- ``sender`` and ``recipient`` are Practitioners when they are professionals
  of the directory, otherwise a display (an outside address, a coordinator);
- ``sent`` is the sending time; ``received`` the reader's own first opening
  when they are a recipient, else the first opening by any recipient (a read
  receipt), absent while nobody has opened it;
- ``inResponseTo`` is the message before it in the thread;
- ``payload`` is the text, then each attachment (its ``url`` a Binary the
  participants may read, with its SHA-256);
- ``identifier`` is the RFC 5322 Message-ID, for messages that went through
  the mail gateway (system ``urn:ietf:rfc:5322``, as FHIR's own example).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fhir.resources.R4B.communication import Communication

from maillage.fhir.mapping.common import concept, meta, reference
from maillage.fhir.mapping.document_reference import attachment
from maillage.fhir.result import Json
from maillage.fhir.validation import emit
from maillage.messaging.models import Attachment, Delivery, Message

MESSAGE_ID_SYSTEM = "urn:ietf:rfc:5322"
PARTICIPATION_MODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"


@dataclass(frozen=True)
class MessageContext:
    """What the mapper needs besides the message, read once for a page."""

    base_url: str
    viewer_id: int  # the user asking: their own read time is their ``received``
    practitioners: Mapping[int, uuid.UUID]  # user pk -> Practitioner id
    previous: Mapping[int, uuid.UUID]  # message pk -> the id of the message it answers


def _party(user_id: int | None, label: str, address: str, context: MessageContext) -> Json:
    practitioner = context.practitioners.get(user_id) if user_id is not None else None
    if practitioner is not None:
        return reference("Practitioner", practitioner, label)
    shown = f"{label} <{address}>" if address and address not in label else label
    return {"display": shown}


def _received(deliveries: Sequence[Delivery], viewer_id: int) -> dt.datetime | None:
    own = [d for d in deliveries if d.user_id == viewer_id]
    if own:
        return own[0].read_at
    opened = [d.read_at for d in deliveries if d.read_at is not None]
    return min(opened) if opened else None


def communication(
    message: Message,
    deliveries: Sequence[Delivery],
    attachments: Sequence[Attachment],
    context: MessageContext,
) -> Json:
    """The Communication; ``message`` must come through the messaging gate, with its thread."""
    thread = message.thread
    data: Json = {
        "resourceType": "Communication",
        "id": str(message.uuid),
        # A message is never changed once sent, but for its reception.
        "meta": meta(message.sent_at),
        "status": "completed",
        "medium": [
            concept(PARTICIPATION_MODE_SYSTEM, "EMAILWRIT", "email")
            if message.inbound
            else concept(PARTICIPATION_MODE_SYSTEM, "WRITTEN", "written")
        ],
        "topic": {"text": thread.subject},
        "sent": message.sent_at.isoformat(),
        "sender": _party(message.sender_id, message.sender_label, message.sender_address, context),
        "recipient": [_party(d.user_id, d.label, d.address, context) for d in deliveries],
        "payload": [
            {"contentString": message.body},
            *({"contentAttachment": attachment(a.file, context.base_url)} for a in attachments),
        ],
    }
    if thread.patient is not None:
        data["subject"] = reference("Patient", thread.patient.uuid)
    if message.message_id:
        data["identifier"] = [{"system": MESSAGE_ID_SYSTEM, "value": message.message_id}]
    received = _received(deliveries, context.viewer_id)
    if received is not None:
        data["received"] = received.isoformat()
        # Its one change, as this reader sees it: when it was received.
        data["meta"] = meta(received, 2)
    answered = context.previous.get(message.pk)
    if answered is not None:
        data["inResponseTo"] = [reference("Communication", answered)]
    if not data["recipient"]:
        del data["recipient"]
    return emit(Communication, data)
