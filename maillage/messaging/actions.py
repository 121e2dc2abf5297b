"""The only writers of secure messages.

Each action checks everything before it writes anything (a refused file or
recipient leaves nothing behind), writes in one transaction, appends the
audit entry on the patient the thread is about, and queues its notices and
outside mail with the message (``_queue_mail``): the background worker sends
them once the transaction commits, never the request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.accounts.notify import send_notice
from maillage.audit.actions import Event, record
from maillage.audit.models import Action
from maillage.directory.models import Professional
from maillage.files import storage
from maillage.files.models import StoredFile
from maillage.files.storage import Upload
from maillage.messaging import gateway
from maillage.messaging.models import (
    Attachment,
    Delivery,
    DeliveryStatus,
    Message,
    Participant,
    RefusedAttachment,
    Thread,
)
from maillage.messaging.queries import professional_by_address
from maillage.policy.gate import (
    DocumentNotFound,
    Grant,
    PatientNotFound,
    authorize,
    get_document,
    load_patient,
)
from maillage.policy.messages import is_participant
from maillage.policy.receivers import Receiver, Refusal, audit_receivers, check_receivers
from maillage.policy.table import uses_messaging
from maillage.realtime.events import DELIVERY_STATUS, MESSAGE_NEW, publish
from maillage.records import actions as record_actions
from maillage.records.models import Document
from maillage.tasks import mail as outbox
from maillage.tasks.models import WorkStatus

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.patients.models import Patient


MAX_RECIPIENTS = 20
MAX_FILES = 10
MAX_BODY_CHARS = 20_000


class MessagingRuleBroken(Exception):
    """A message refused by a rule; ``message`` is for the person, ``field`` says where."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Draft:
    """A new thread as the sender composed it."""

    subject: str
    body: str
    professionals: Sequence[Professional] = ()
    addresses: Sequence[str] = ()
    patient_uuid: object = None
    uploads: Sequence[Upload] = ()
    documents: Sequence[object] = ()


# Someone a message goes to is a receiver of the policy: one type for both.
Recipient = Receiver


@dataclass(frozen=True)
class Attached:
    """A file checked and ready to attach: either bytes to store or a record document's file."""

    upload: Upload | None = None
    file: StoredFile | None = None
    document: Document | None = None


# --- Checks (nothing written) ---------------------------------------------------------


def check_sender(user: User) -> None:
    if not uses_messaging(user):
        raise MessagingRuleBroken(_("Your role has no secure messaging."))


def _may_receive(user: User | None) -> bool:
    return user is not None and uses_messaging(user)


def outside_domain_trusted(address: str) -> bool:
    """An outside address is allowed only in a configured trusted space (MSSanté by default)."""
    domain = address.rpartition("@")[2].lower().rstrip(".")
    return any(
        domain == trusted or domain.endswith("." + trusted)
        for trusted in settings.MAILLAGE_OUTSIDE_DOMAINS
    )


def _label_of(user: User) -> str:
    professional = Professional.objects.filter(user=user).first()
    return professional.display_name if professional else user.display_name


def resolve_recipients(
    sender: User, professionals: Sequence[Professional], addresses: Sequence[str]
) -> list[Recipient]:
    """Whom a new message reaches, inside (an account) or outside (MSSanté by SMTP)."""
    found: list[Recipient] = []
    for professional in professionals:
        if _may_receive(professional.user):
            found.append(Recipient(professional.display_name, user=professional.user))
        elif professional.secure_messaging_address:
            outside = _outside(professional.secure_messaging_address)
            found.append(Recipient(professional.display_name, address=outside.address))
        else:
            raise MessagingRuleBroken(
                _("%(name)s has neither a Maillage account nor an MSSanté address.")
                % {"name": professional.display_name},
                "recipients",
            )
    for raw in addresses:
        address = raw.strip()
        try:
            validate_email(address)
        except ValidationError:
            raise MessagingRuleBroken(
                _("“%(address)s” is not a valid email address.") % {"address": address},
                "outside",
            ) from None
        inside = [p for p in professional_by_address(address) if _may_receive(p.user)]
        # A colleague's MSSanté address typed by hand: delivered inside, never sent out.
        found.extend(Recipient(p.display_name, user=p.user) for p in inside)
        if not inside:
            found.append(_outside(address))
    unique: dict[str, Recipient] = {}
    for recipient in found:
        if recipient.user is not None and recipient.user.pk == sender.pk:
            continue
        unique.setdefault(recipient.key, recipient)
    if not unique:
        raise MessagingRuleBroken(_("Choose at least one recipient."), "recipients")
    if len(unique) > MAX_RECIPIENTS:
        raise MessagingRuleBroken(
            _("At most %(n)d recipients per message.") % {"n": MAX_RECIPIENTS}, "recipients"
        )
    return list(unique.values())


def _outside(address: str) -> Recipient:
    if not outside_domain_trusted(address):
        raise MessagingRuleBroken(
            _(
                "“%(address)s” is outside the trusted secure-messaging domains: health data "
                "may only leave Maillage for a secure messaging space (MSSanté)."
            )
            % {"address": address},
            "outside",
        )
    return Recipient(address, address=address)


def _check_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise MessagingRuleBroken(_("Write a message."), "body")
    if len(body) > MAX_BODY_CHARS:
        raise MessagingRuleBroken(
            _("A message holds at most %(n)d characters.") % {"n": MAX_BODY_CHARS}, "body"
        )
    return body


def _check_uploads(uploads: Sequence[Upload]) -> list[Attached]:
    """Refuse a bad file before anything is stored or audited."""
    for upload in uploads:
        try:
            storage.check(upload.data, upload.name)
        except storage.RejectedUpload as error:
            raise MessagingRuleBroken(
                _("%(name)s: %(reason)s")
                % {"name": storage.safe_name(upload.name), "reason": error.message},
                "attachments",
            ) from None
    return [Attached(upload=u) for u in uploads]


def _check_documents(
    sender: User, patient: Patient | None, document_uuids: Sequence[object]
) -> list[Attached]:
    """Record documents the sender can see (each read audited), about the thread's patient."""
    attached: list[Attached] = []
    for document_uuid in document_uuids:
        try:
            if patient is None:
                raise DocumentNotFound
            document, _opened = get_document(sender, document_uuid)
            if document.patient_id != patient.pk:
                raise DocumentNotFound
        except DocumentNotFound:
            raise MessagingRuleBroken(
                _("A document of the record could not be attached: it is not available to you."),
                "documents",
            ) from None
        attached.extend(
            Attached(file=link.file, document=document)
            for link in document.document_files.select_related("file")
        )
    return attached


def _check_count(attached: Sequence[Attached]) -> None:
    if len(attached) > MAX_FILES:
        raise MessagingRuleBroken(
            _("At most %(n)d files per message.") % {"n": MAX_FILES}, "attachments"
        )


# --- Writing -----------------------------------------------------------------------


def send_message(sender: User, draft: Draft) -> Message:
    """Start a thread: check everything, then write the thread and its first message."""
    check_sender(sender)
    subject = " ".join(draft.subject.split())
    if not subject:
        raise MessagingRuleBroken(_("Give the message a subject."), "subject")
    body = _check_body(draft.body)
    attached = _check_uploads(draft.uploads)
    recipients = resolve_recipients(sender, draft.professionals, draft.addresses)
    patient, grant = _link_patient(sender, draft.patient_uuid)
    attached += _check_documents(sender, patient, draft.documents)
    _check_count(attached)
    _check_receivers(sender, patient, grant, recipients, attached)
    now = timezone.now()
    with transaction.atomic():
        thread = Thread.objects.create(
            subject=subject[:200],
            patient=patient,
            created_at=now,
            last_message_at=now,
            created_by=sender,
        )
        Participant.objects.bulk_create(
            [Participant(thread=thread, user=sender, label=_label_of(sender))]
            + [
                Participant(thread=thread, user=r.user, address=r.address, label=r.label)
                for r in recipients
            ]
        )
        message = _write_message(thread, sender, body, recipients, attached, now, grant)
    return message


def _link_patient(sender: User, patient_uuid: object) -> tuple[Patient | None, Grant | None]:
    """Writing about a patient: the policy decides (MESSAGE_SEND), the send closes the grant."""
    if not patient_uuid:
        return None, None
    patient = load_patient(patient_uuid)
    if patient is None:
        raise PatientNotFound
    return patient, authorize(sender, patient, Action.MESSAGE_SEND)


def _check_receivers(
    sender: User,
    patient: Patient | None,
    grant: Grant | None,
    recipients: Sequence[Recipient],
    attached: Sequence[Attached],
) -> None:
    """Every receiver of data about the patient is decided; one refusal stops the send."""
    if patient is None:
        return
    documents = _documents_of(attached)
    refusals = check_receivers(sender, patient, recipients, documents)
    if not refusals:
        return
    if grant is not None:
        grant.failed(
            "receiver_refused", receivers=sorted({r.receiver.audit_name for r in refusals})
        )
    raise MessagingRuleBroken(_refusal_message(refusals), "recipients")


def _documents_of(attached: Sequence[Attached]) -> list[Document]:
    unique: dict[int, Document] = {}
    for item in attached:
        if item.document is not None:
            unique.setdefault(item.document.pk, item.document)
    return list(unique.values())


def _refusal_message(refusals: Sequence[Refusal]) -> str:
    """Names each receiver refused and, when it is a document, which one; never the rule."""
    lines = []
    for refusal in refusals:
        if refusal.document is None:
            lines.append(
                _("%(name)s may not receive messages about this patient.")
                % {"name": refusal.receiver.label}
            )
        else:
            lines.append(
                _("%(name)s may not receive the document “%(title)s” of the record.")
                % {"name": refusal.receiver.label, "title": refusal.document.title}
            )
    lines.append(_("Nothing was sent."))
    return " ".join(lines)


def reply(
    sender: User,
    thread: Thread,
    body: str,
    *,
    uploads: Sequence[Upload] = (),
    documents: Sequence[object] = (),
) -> Message:
    """Answer in the thread, to every other participant."""
    check_sender(sender)
    if not is_participant(sender, thread):
        raise MessagingRuleBroken(_("You do not take part in this conversation."))
    body = _check_body(body)
    attached = _check_uploads(uploads)
    recipients = _other_participants(sender, thread)
    if not recipients:
        raise MessagingRuleBroken(_("Nobody else in this conversation can receive a message."))
    attached += _check_documents(sender, thread.patient, documents)
    _check_count(attached)
    grant = (
        authorize(sender, thread.patient, Action.MESSAGE_SEND, detail={"reply": True})
        if thread.patient is not None
        else None
    )
    _check_receivers(sender, thread.patient, grant, recipients, attached)
    now = timezone.now()
    with transaction.atomic():
        message = _write_message(thread, sender, body, recipients, attached, now, grant)
        Thread.objects.filter(pk=thread.pk).update(last_message_at=now)
    return message


def _other_participants(sender: User, thread: Thread) -> list[Recipient]:
    recipients = []
    for participant in thread.participants.select_related("user").order_by("pk"):
        if participant.user_id == sender.pk:
            continue
        if participant.user is None:
            recipients.append(Recipient(participant.label, address=participant.address))
        elif _may_receive(participant.user):
            recipients.append(Recipient(participant.label, user=participant.user))
    return recipients


def _write_message(
    thread: Thread,
    sender: User,
    body: str,
    recipients: Sequence[Recipient],
    attached: Sequence[Attached],
    now: dt.datetime,
    grant: Grant | None,
) -> Message:
    goes_out = any(r.user is None for r in recipients)
    professional = Professional.objects.filter(user=sender).first()
    message = Message.objects.create(
        thread=thread,
        sender=sender,
        sender_label=_label_of(sender),
        sender_address=professional.secure_messaging_address if professional else "",
        body=body,
        sent_at=now,
        message_id=gateway.new_message_id(_envelope_of(sender)) if goes_out else "",
    )
    Delivery.objects.bulk_create(
        [
            Delivery(
                message=message,
                user=r.user,
                address=r.address,
                label=r.label,
                status=DeliveryStatus.INTERNAL if r.user is not None else DeliveryStatus.PENDING,
            )
            for r in recipients
        ]
    )
    for r in recipients:
        if r.user is not None:
            # The live inbox: the thread and a count only, stored with the message, sent on commit.
            publish(r.user.pk, MESSAGE_NEW, {"thread": str(thread.uuid), "count": 1})
    Attachment.objects.bulk_create(
        [
            Attachment(
                message=message,
                file=item.file if item.file is not None else _store(item, sender),
                source_document=item.document,
                position=position,
            )
            for position, item in enumerate(attached)
        ]
    )
    if thread.patient is not None and grant is not None:
        grant.done(
            thread=str(thread.uuid),
            message=str(message.uuid),
            recipients=len(recipients),
            outside=[r.address for r in recipients if r.user is None],
            attachments=len(attached),
        )
        audit_receivers(
            sender,
            thread.patient,
            recipients,
            _documents_of(attached),
            detail={"message": str(message.uuid)},
        )
    _queue_mail(message)
    return message


def _store(item: Attached, sender: User | None) -> StoredFile:
    assert item.upload is not None
    return storage.store(item.upload.data, item.upload.name, by=sender)


def _queue_mail(message: Message) -> None:
    """The notices and outside mail of a message, written in the transaction that writes it.

    The rows saying what to send commit with the message (an outbox) and their
    tasks are enqueued once it commits: nothing is sent in the request, and a
    slow relay never holds the sender. Each mail is claimed before it goes, so
    it goes once (``maillage.tasks.mail``).
    """
    notify_recipients(message)
    if not message.message_id or message.inbound:
        return
    for delivery in message.deliveries.filter(
        user__isnull=True, status=DeliveryStatus.PENDING
    ).order_by("pk"):
        outbox.queue_outside(delivery.pk, delivery.address, message.message_id)


def mark_read(user: User, thread: Thread) -> int:
    """Record the first opening of each message by this recipient: the read receipt."""
    return Delivery.objects.filter(
        message__thread=thread, user_id=user.pk, read_at__isnull=True
    ).update(read_at=timezone.now())


# --- Notices ---------------------------------------------------------------------------


def notify_recipients(message: Message) -> int:
    """Tell each internal recipient a message awaits: no subject, no patient, only a link.

    One notice per message and recipient (its idempotency key), sent by the worker.
    """
    path = reverse("messaging:thread", kwargs={"uuid": message.thread.uuid})
    queued = 0
    for delivery in message.deliveries.filter(user__isnull=False).select_related("user"):
        assert delivery.user is not None
        queued += send_notice(
            delivery.user,
            _("New secure message in Maillage"),
            [_("You have received a new secure message. Sign in to Maillage to read it.")],
            path,
            key=f"message:{message.pk}:user:{delivery.user.pk}",
        )
    return queued


# --- Outside, by SMTP ----------------------------------------------------------------------


def _envelope_of(sender: User) -> gateway.Envelope:
    professional = Professional.objects.filter(user=sender).first()
    return gateway.sender_envelope(
        professional.display_name if professional else sender.display_name,
        professional.secure_messaging_address if professional else "",
        sender.email,
    )


class OutsideMailRefused(Exception):
    """This delivery can never go out: its receiver is refused now, or a file failed its check."""


def outside_mail(delivery_pk: int) -> EmailMessage:
    """The MIME mail of one outside delivery, built afresh by the worker at each attempt.

    The policy is asked again for the receiver and for each record document
    attached: the patient may have opposed, masked a document or refused
    sharing since the message was written, and the mail may leave hours later
    (retries). A refusal is audited on the patient and the mail never goes.
    """
    delivery = Delivery.objects.select_related("message__thread__patient", "message__sender").get(
        pk=delivery_pk
    )
    message = delivery.message
    sender = message.sender
    if sender is None:
        raise OutsideMailRefused("a mail that came in is never sent out")
    attachments = list(message.attachments.select_related("file", "source_document"))
    patient = message.thread.patient
    if patient is not None:
        documents = _documents_of(
            [Attached(file=a.file, document=a.source_document) for a in attachments]
        )
        receiver = Receiver(delivery.label, address=delivery.address)
        if check_receivers(
            sender, patient, [receiver], documents, detail={"message": str(message.uuid)}
        ):
            raise OutsideMailRefused("the receiver may no longer receive this message")
    try:
        files = [
            gateway.OutboundFile(a.file.original_name, a.file.mime, storage.read(a.file))
            for a in attachments
        ]
    except storage.CorruptedFile:
        raise OutsideMailRefused("an attachment failed its integrity check") from None
    references = list(
        message.thread.messages.exclude(message_id="")
        .exclude(pk=message.pk)
        .order_by("sent_at", "pk")
        .values_list("message_id", flat=True)
    )
    header_to = [d.address for d in message.deliveries.filter(user__isnull=True).order_by("pk")]
    return gateway.outbound_email(
        message,
        _envelope_of(sender),
        envelope_to=delivery.address,
        header_to=header_to,
        files=files,
        references=references,
    )


def record_outside_status(delivery_pk: int, work_status: str, error: str) -> None:
    """The delivery its sender sees follows its mail: sent, not sent, or still being sent."""
    statuses: dict[str, str] = {
        WorkStatus.DONE: DeliveryStatus.SENT,
        WorkStatus.FAILED: DeliveryStatus.FAILED,
    }
    status = statuses.get(work_status, DeliveryStatus.PENDING)
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery_pk, user__isnull=True).update(
            status=status, error=error[:1000], attempted_at=timezone.now()
        )
        if updated and status != DeliveryStatus.PENDING:
            _publish_delivery(delivery_pk, status)


def _publish_delivery(delivery_pk: int, status: str) -> None:
    """Tell the conversation's members live that a mail left (ids and a status only)."""
    delivery = Delivery.objects.select_related("message__thread").get(pk=delivery_pk)
    thread = delivery.message.thread
    members = thread.participants.filter(user__isnull=False).values_list("user_id", flat=True)
    for user_id in members:
        publish(user_id, DELIVERY_STATUS, {"thread": str(thread.uuid), "status": status})


def send_again(user: User, message: Message) -> list[Delivery]:
    """The sender queues a message again for the outside recipients it did not reach."""
    if message.sender_id != user.pk:
        raise MessagingRuleBroken(_("Only the sender can send a message again."))
    failed = list(
        message.deliveries.filter(user__isnull=True, status=DeliveryStatus.FAILED).order_by("pk")
    )
    if not failed:
        raise MessagingRuleBroken(_("Every outside recipient has already received this message."))
    with transaction.atomic():
        Delivery.objects.filter(pk__in=[d.pk for d in failed]).update(status=DeliveryStatus.PENDING)
        outbox.send_again([(d.pk, d.address) for d in failed], message.message_id)
    return list(Delivery.objects.filter(pk__in=[d.pk for d in failed]).order_by("pk"))


# --- Filing into the record ----------------------------------------------------------------------


def file_attachment(
    user: User, attachment: Attachment, doc_type: str, title: str, date: dt.date | None = None
) -> Document:
    """File an attachment of a message about a patient into their record, without a copy."""
    thread = attachment.message.thread
    if thread.patient is None:
        raise MessagingRuleBroken(
            _("Only an attachment of a message about a patient can be filed into a record.")
        )
    if attachment.source_document_id is not None:
        raise MessagingRuleBroken(_("This file comes from the record: it is already there."))
    if attachment.filed_as_id is not None:
        raise MessagingRuleBroken(_("This file is already filed in the record."))
    new = record_actions.NewDocument(
        type=doc_type,
        title=" ".join(title.split())[:200] or attachment.file.original_name,
        date=date or timezone.localdate(attachment.message.sent_at),
    )
    try:
        document = record_actions.file_document(user, thread.patient, new, files=[attachment.file])
    except PatientNotFound:
        raise MessagingRuleBroken(
            _("You may not add documents to this patient's record.")
        ) from None
    except record_actions.RecordRuleBroken as error:
        raise MessagingRuleBroken(error.message) from None
    Attachment.objects.filter(pk=attachment.pk, filed_as__isnull=True).update(filed_as=document)
    attachment.filed_as = document
    return document


# --- Inbound, from the SMTP gateway ------------------------------------------------------------


def deliver_inbound(mail: gateway.IncomingMail, rcpt_tos: Sequence[str]) -> Message | None:
    """Put a mail from outside into the inboxes of the professionals it was sent to.

    A reply to one of our messages joins its thread when it comes from an
    outside participant of that thread and goes only to its participants;
    anything else starts a thread. A refused attachment is named with the
    reason, the rest is delivered.
    """
    users: dict[int, Recipient] = {}
    for address in rcpt_tos:
        for professional in professional_by_address(address):
            if _may_receive(professional.user):
                assert professional.user is not None
                users.setdefault(
                    professional.user.pk,
                    Recipient(professional.display_name, user=professional.user),
                )
    if not users:
        return None
    recipients = list(users.values())
    accepted: list[gateway.IncomingFile] = []
    refused: list[tuple[str, str]] = list(mail.refused)
    for item in mail.files:
        try:
            storage.check(item.data, item.name)
        except storage.RejectedUpload as error:
            refused.append((storage.safe_name(item.name), error.message))
        else:
            accepted.append(item)
    sender_label = mail.sender_name or mail.sender_address or _("Unknown sender")
    now = timezone.now()
    with transaction.atomic():
        thread = _thread_replied_to(mail, recipients)
        if thread is None:
            thread = Thread.objects.create(
                subject=mail.subject or _("(no subject)"), created_at=now, last_message_at=now
            )
            # A bounce has no sender address: nobody outside to answer to.
            outside = (
                [Participant(thread=thread, address=mail.sender_address, label=sender_label[:200])]
                if mail.sender_address
                else []
            )
            Participant.objects.bulk_create(
                outside
                + [Participant(thread=thread, user=r.user, label=r.label) for r in recipients]
            )
        else:
            Thread.objects.filter(pk=thread.pk).update(last_message_at=now)
        message = Message.objects.create(
            thread=thread,
            sender=None,
            sender_label=sender_label[:200],
            sender_address=mail.sender_address,
            body=mail.body,
            sent_at=now,
            message_id=mail.message_id,
            inbound=True,
        )
        Delivery.objects.bulk_create(
            [
                Delivery(
                    message=message, user=r.user, label=r.label, status=DeliveryStatus.INTERNAL
                )
                for r in recipients
            ]
        )
        Attachment.objects.bulk_create(
            [
                Attachment(
                    message=message, file=storage.store(item.data, item.name, by=None), position=i
                )
                for i, item in enumerate(accepted)
            ]
        )
        RefusedAttachment.objects.bulk_create(
            [
                RefusedAttachment(message=message, name=name[:200], reason=reason[:300])
                for name, reason in refused
            ]
        )
        if thread.patient is not None:
            record(
                None,
                Event(
                    action=Action.MESSAGE_SEND,
                    patient=thread.patient,
                    basis="sender",
                    detail={
                        "thread": str(thread.uuid),
                        "message": str(message.uuid),
                        "from_outside": mail.sender_address,
                    },
                ),
            )
        _queue_mail(message)
    return message


def _thread_replied_to(
    mail: gateway.IncomingMail, recipients: Sequence[Recipient]
) -> Thread | None:
    if not mail.references or not mail.sender_address:
        return None
    earlier = (
        Message.objects.filter(message_id__in=mail.references[-20:])
        .select_related("thread__patient")
        .order_by("-sent_at")
        .first()
    )
    if earlier is None:
        return None
    thread = earlier.thread
    participants = thread.participants.all()
    from_participant = participants.filter(
        user__isnull=True, address__iexact=mail.sender_address
    ).exists()
    user_ids = set(participants.filter(user__isnull=False).values_list("user_id", flat=True))
    # Nobody joins a conversation, about a patient or not, because an outsider wrote.
    every_recipient_inside = all(r.user is not None and r.user.pk in user_ids for r in recipients)
    return thread if from_participant and every_recipient_inside else None
