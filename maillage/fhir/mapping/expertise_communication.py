"""A step of a tele-expertise conversation to FHIR Communication (one per ``expertise.Message``).

Beside the secure messages (``mapping.communication``), whose ids they never share:

- ``partOf`` is the request's Task, ``about`` its ServiceRequest, ``subject`` the patient;
- ``category`` is the step's kind (question, answer, asks for more, reply,
  addition, conclusion, and the workflow's events: took, handed over,
  cancelled), code system ``…/CodeSystem/expertise-message-kind``;
- ``sender`` is its author's Practitioner; ``recipient`` the other side: the
  requester for the specialist's steps, the specialist holding the request
  (or its pool) for the requester's;
- ``sent`` when it was written; ``inResponseTo`` the step before it;
- ``payload`` the text, then each attachment (a Binary the participants may read).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fhir.resources.R4B.communication import Communication

from maillage.expertise.models import MessageKind
from maillage.fhir.mapping.common import coding, meta, reference
from maillage.fhir.mapping.document_reference import attachment
from maillage.fhir.mapping.service_request import performer_of, practitioner
from maillage.fhir.result import Json
from maillage.fhir.systems import MAILLAGE_FHIR
from maillage.fhir.validation import emit

if TYPE_CHECKING:
    from maillage.expertise.models import Attachment, Message, Request

KIND_SYSTEM = f"{MAILLAGE_FHIR}/CodeSystem/expertise-message-kind"


@dataclass(frozen=True)
class StepContext:
    base_url: str
    practitioners: Mapping[int, uuid.UUID]  # user pk -> Practitioner id
    previous: Mapping[int, uuid.UUID]  # message pk -> the id of the step before it


def _sender(message: Message, context: StepContext) -> Json:
    found = context.practitioners.get(message.author_id) if message.author_id is not None else None
    if found is not None:
        return reference("Practitioner", found, message.author_label)
    return {"display": message.author_label}


def _recipient(message: Message, request: Request) -> Json | None:
    if message.author_id == request.requester_id:
        return performer_of(request)
    return practitioner(request.requester_professional)


def expertise_communication(
    message: Message,
    request: Request,
    attachments: Sequence[Attachment],
    context: StepContext,
) -> Json:
    """The Communication of one step of a request opened through ``policy.expertise``."""
    kind = MessageKind(message.kind)
    data: Json = {
        "resourceType": "Communication",
        "id": str(message.uuid),
        # A step is never changed once written.
        "meta": meta(message.created_at),
        "partOf": [reference("Task", request.uuid)],
        "about": [reference("ServiceRequest", request.uuid)],
        "status": "completed",
        "category": [
            {"coding": [coding(KIND_SYSTEM, kind.value)], "text": str(kind.label)},
        ],
        "subject": reference("Patient", request.patient.uuid),
        "topic": {"text": "Télé-expertise"},
        "sent": message.created_at.isoformat(),
        "sender": _sender(message, context),
    }
    recipient = _recipient(message, request)
    if recipient is not None:
        data["recipient"] = [recipient]
    payload: list[Json] = []
    if message.body:
        payload.append({"contentString": message.body})
    payload += [{"contentAttachment": attachment(a.file, context.base_url)} for a in attachments]
    if payload:
        data["payload"] = payload
    answered = context.previous.get(message.pk)
    if answered is not None:
        data["inResponseTo"] = [reference("Communication", answered)]
    return emit(Communication, data)
