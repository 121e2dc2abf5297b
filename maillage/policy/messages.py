"""The policy for threads and their attachments.

A thread is seen by its participants only; anyone else is told it does not
exist. When it is about a patient, the participant must still be allowed by
``decide`` (MESSAGE_READ: a professional the patient opposed reads nothing
more about her), and each attachment that came from the record is decided
again for the reader (DOCUMENT_RECEIVE: a document masked since it was sent
is no longer served). Every decision on a thread about a patient is audited
on her, refusals included.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome
from maillage.messaging.models import Attachment, Delivery, Message, Participant, Thread
from maillage.policy.decide import Subject, decide
from maillage.policy.table import MESSAGING_ROLES, uses_messaging

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.patients.models import Patient


class ThreadNotFound(Http404):
    """A missing thread and a thread of others look the same."""


class AttachmentNotFound(Http404):
    """A missing attachment and one of a thread of others look the same."""


def may_use_messaging(user: User) -> bool:
    return uses_messaging(user)


__all__ = ["MESSAGING_ROLES"]


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


def _thread_rule(user: User, thread: Thread) -> str | None:
    """Why this user may not see this thread, or None: one condition per line."""
    if not may_use_messaging(user):
        return "role"
    if not is_participant(user, thread):
        return "not_participant"
    if thread.patient is None:
        return None
    decision = decide(Subject.of(user, thread.patient), Action.MESSAGE_READ)
    return None if decision.granted else decision.rule


def _audit(
    user: User, thread: Thread, purpose: str, rule: str | None, detail: dict[str, str]
) -> None:
    assert thread.patient is not None
    record(
        user,
        Event(
            action=purpose,
            outcome=Outcome.GRANTED if rule is None else Outcome.DENIED,
            patient=thread.patient,
            basis=basis(user, thread) if rule is None else "",
            detail={"thread": str(thread.uuid), **detail, **({"rule": rule} if rule else {})},
        ),
    )


def get_thread(
    user: User, thread_uuid: object, purpose: str = Action.MESSAGE_READ, **detail: str
) -> Thread:
    """A thread through the policy; ThreadNotFound for anyone it refuses.

    ``purpose`` is MESSAGE_READ when the thread is about to be shown (the read
    is audited here), MESSAGE_SEND for a reply (the action audits the send),
    DOCUMENT_CREATE when an attachment is filed (the record audits it).
    Refusals are audited whatever the purpose.
    """
    thread = _load(thread_uuid)
    if thread is None:
        raise ThreadNotFound
    rule = _thread_rule(user, thread)
    if thread.patient is not None and (rule is not None or purpose == Action.MESSAGE_READ):
        _audit(user, thread, purpose, rule, detail)
    if rule is not None:
        raise ThreadNotFound
    return thread


def _attachment_rule(user: User, attachment: Attachment) -> str | None:
    """A record document that reached the thread is decided again for each reader."""
    document = attachment.source_document
    if document is None:
        return None
    decision = decide(
        Subject.of(user, document.patient), Action.DOCUMENT_RECEIVE, document=document
    )
    return None if decision.granted else decision.rule


def get_attachment(
    user: User, thread_uuid: object, attachment_uuid: object, purpose: str = Action.MESSAGE_READ
) -> Attachment:
    """An attachment of a thread the user may see; one audit entry for the whole decision."""
    try:
        key = uuid.UUID(str(attachment_uuid))
    except ValueError:
        raise AttachmentNotFound from None
    thread = _load(thread_uuid)
    if thread is None:
        raise AttachmentNotFound
    attachment = (
        Attachment.objects.select_related("file", "message", "filed_as", "source_document")
        .filter(uuid=key, message__thread=thread)
        .first()
    )
    rule = _thread_rule(user, thread)
    if rule is None and attachment is not None:
        rule = _attachment_rule(user, attachment)
    if thread.patient is not None and (rule is not None or purpose == Action.MESSAGE_READ):
        _audit(user, thread, purpose, rule, {"attachment": str(key)})
    if rule is not None or attachment is None:
        raise AttachmentNotFound
    return attachment


def get_attachment_file(user: User, file_uuid: object) -> Attachment:
    """An attachment holding this stored file, in a thread the user may see.

    A file of no thread raises AttachmentNotFound with nothing written (the
    caller may still try the record). A file of a thread about a patient is
    decided and audited on that patient, refusals included.
    """
    try:
        key = uuid.UUID(str(file_uuid))
    except ValueError:
        raise AttachmentNotFound from None
    candidates = list(
        Attachment.objects.filter(file__uuid=key)
        .order_by("-pk")
        .values_list("message__thread__uuid", "uuid", "message__thread__patient_id")[:50]
    )
    if not candidates:
        raise AttachmentNotFound
    # The user's own threads first: the same file may travel in several.
    mine = set(
        Participant.objects.filter(
            user_id=user.pk, thread__uuid__in=[c[0] for c in candidates]
        ).values_list("thread__uuid", flat=True)
    )
    candidates.sort(key=lambda c: c[0] not in mine)
    thread_uuid, attachment_uuid, patient_id = candidates[0]
    if thread_uuid not in mine and patient_id is None:
        raise AttachmentNotFound
    return get_attachment(user, thread_uuid, attachment_uuid)


def filing_types(user: User, patient: Patient | None) -> list[str]:
    """Document types this user could file into the patient's record, for shaping the page.

    No audit entry: it only decides whether to show the control. Filing itself
    goes through records.actions.file_document, whose gate decides and audits.
    """
    if patient is None:
        return []
    subject = Subject.of(user, patient)
    if not decide(subject, Action.DOCUMENT_CREATE).granted:
        return []
    return [t for t, (_read, write) in subject.matrix.items() if write]


# --- Messages for the FHIR Communication handler ----------------------------------
# The reads stay here, beside ``get_thread``: the handler locates a message's
# thread, asks ``get_thread``, and only then receives the message.


def thread_of_message(message_uuid: uuid.UUID) -> uuid.UUID | None:
    """The thread a message is in, unchecked: only to ask ``get_thread`` about it."""
    return Message.objects.filter(uuid=message_uuid).values_list("thread__uuid", flat=True).first()


def _with_details() -> QuerySet[Message]:
    return Message.objects.select_related("thread__patient").prefetch_related(
        Prefetch("deliveries", queryset=Delivery.objects.order_by("pk")),
        "attachments__file",
    )


def message_in(thread: Thread, message_uuid: uuid.UUID) -> Message:
    """A message of a thread ``get_thread`` handed out, with deliveries and attachments."""
    return _with_details().get(uuid=message_uuid, thread=thread)


def readable_threads_q(user: User) -> Q:
    """The threads ``get_thread`` lets the user read among those they take part in, as a
    filter for lists.

    Threads about nobody, and threads about a patient ``decide`` grants
    MESSAGE_READ on (the same rules as a filter: a list never shows a thread
    that would then answer "not found"). Participation is the caller's filter.
    The rules are asked of each thread's own patient column (``via``), not of a
    set of patients. At the regional size, the set of every patient a
    participant may read (nearly the whole region) cost 110 ms an inbox page,
    and the patients of his own threads decided through the patients table
    25 ms (two scans of every thread); asked per thread, 9 ms for the page
    and 7 for its count.
    """
    from maillage.policy.gate import visible_patients_q

    if not may_use_messaging(user):
        return Q(pk__in=[])
    return Q(patient__isnull=True) | visible_patients_q(user, Action.MESSAGE_READ, "patient__")


def messages_of_participant(user: User, criteria: Q) -> QuerySet[Message]:
    """Messages matching ``criteria`` in the threads the user takes part in, newest first.

    Only threads the policy lets the user read; each thread of the page shown
    is still decided (and audited) by ``get_thread``.
    """
    own = Message.objects.filter(
        thread__participants__user_id=user.pk,
        thread__in=Thread.objects.filter(readable_threads_q(user)).values("pk"),
    )
    matching = own.filter(criteria).values("pk").distinct()
    return _with_details().filter(pk__in=matching).order_by("-sent_at", "-pk")


def previous_messages(messages: list[Message]) -> dict[int, uuid.UUID]:
    """For each message already handed out, the one before it in its thread (what it answers)."""
    previous: dict[int, uuid.UUID] = {}
    for message in messages:
        before = (
            Message.objects.filter(thread_id=message.thread_id)
            .filter(Q(sent_at__lt=message.sent_at) | Q(sent_at=message.sent_at, pk__lt=message.pk))
            .order_by("-sent_at", "-pk")
            .values_list("uuid", flat=True)
            .first()
        )
        if before is not None:
            previous[message.pk] = before
    return previous
