"""The gate in front of threads and their attachments.

A thread is seen by its participants only; anyone else is told it does not
exist, and when it is about a patient that refusal is written in the
patient's audit trail. Reading a thread about a patient is audited too
(MESSAGE_READ, on the basis "recipient" or "sender").
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.http import Http404

from maillage.accounts.models import Role
from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome
from maillage.messaging.models import Attachment, Delivery, Participant, Thread
from maillage.records.access import writable_types_for

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.patients.models import Patient


class ThreadNotFound(Http404):
    """A missing thread and a thread of others look the same."""


class AttachmentNotFound(Http404):
    """A missing attachment and one of a thread of others look the same."""


# Secure messaging is between professionals: patients and analysts have none.
NO_MESSAGING_ROLES = frozenset({Role.PATIENT, Role.ANALYST})


def may_use_messaging(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.role not in NO_MESSAGING_ROLES


def is_participant(user: User, thread: Thread) -> bool:
    return Participant.objects.filter(thread=thread, user_id=user.pk).exists()


def basis(user: User, thread: Thread) -> str:
    """Why this user sees the thread: they received a message in it, or they only sent."""
    received = Delivery.objects.filter(message__thread=thread, user_id=user.pk).exists()
    return "recipient" if received else "sender"


def _load(thread_uuid: object) -> Thread | None:
    try:
        key = uuid.UUID(str(thread_uuid))
    except ValueError:
        return None
    return Thread.objects.select_related("patient").filter(uuid=key).first()


def get_thread(
    user: User, thread_uuid: object, purpose: str = Action.MESSAGE_READ, **detail: str
) -> Thread:
    """A thread through the gate; ThreadNotFound for anyone but its participants.

    ``purpose`` is MESSAGE_READ when the thread is about to be shown (the read
    is audited here), MESSAGE_SEND for a reply (the action audits the send),
    DOCUMENT_CREATE when an attachment is filed (the record audits it).
    """
    thread = _load(thread_uuid)
    if thread is None:
        raise ThreadNotFound
    allowed = may_use_messaging(user) and is_participant(user, thread)
    if thread.patient is not None and (not allowed or purpose == Action.MESSAGE_READ):
        record(
            user,
            Event(
                action=purpose,
                outcome=Outcome.GRANTED if allowed else Outcome.DENIED,
                patient=thread.patient,
                basis=basis(user, thread) if allowed else "",
                detail={"thread": str(thread.uuid), **detail},
            ),
        )
    if not allowed:
        raise ThreadNotFound
    return thread


def get_attachment(
    user: User, thread_uuid: object, attachment_uuid: object, purpose: str = Action.MESSAGE_READ
) -> Attachment:
    """An attachment of a thread the user takes part in; the read is audited like the thread's."""
    try:
        key = uuid.UUID(str(attachment_uuid))
    except ValueError:
        raise AttachmentNotFound from None
    thread = get_thread(user, thread_uuid, purpose, attachment=str(key))
    attachment = (
        Attachment.objects.select_related("file", "message", "filed_as")
        .filter(uuid=key, message__thread=thread)
        .first()
    )
    if attachment is None:
        raise AttachmentNotFound
    return attachment


def get_attachment_file(user: User, file_uuid: object) -> Attachment:
    """An attachment holding this stored file, in a thread the user takes part in.

    Only the user's own threads are looked at, so an unknown file and a file
    of others' threads look the same (AttachmentNotFound, nothing written:
    the caller may still try the record). The read that follows is audited
    by get_attachment, as a read of the thread.
    """
    try:
        key = uuid.UUID(str(file_uuid))
    except ValueError:
        raise AttachmentNotFound from None
    if not may_use_messaging(user):
        raise AttachmentNotFound
    found = (
        Attachment.objects.filter(file__uuid=key, message__thread__participants__user_id=user.pk)
        .values_list("message__thread__uuid", "uuid")
        .first()
    )
    if found is None:
        raise AttachmentNotFound
    thread_uuid, attachment_uuid = found
    return get_attachment(user, thread_uuid, attachment_uuid)


def filing_types(user: User, patient: Patient | None) -> list[str]:
    """Document types this user could file into the patient's record, for shaping the page.

    No audit entry: it only decides whether to show the control. Filing itself
    goes through records.actions.file_document, whose gate decides and audits.
    """
    if patient is None:
        return []
    return writable_types_for(user, patient)
