"""Secure messages between professionals: threads, deliveries, attachments.

An exchange to named recipients, distinct from the shared record (sharing).
A thread is seen only by its participants (maillage.messaging.access); only
maillage.messaging.actions writes these rows.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Thread(models.Model):
    """A conversation: its first message and every reply."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=200)
    # Optional: what the exchange is about. Linking one passes the patient gate;
    # every send and read of the thread is then audited on that patient.
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="message_threads",
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-last_message_at"]
        indexes = [models.Index(fields=["-last_message_at"], name="thread_recent")]

    def __str__(self) -> str:
        return self.subject


class Participant(models.Model):
    """Someone in a thread: a Maillage user, or an outside address reached by SMTP."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="message_threads",
    )
    address = models.EmailField(blank=True)
    label = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["thread", "user"],
                condition=Q(user__isnull=False),
                name="participant_user_once",
            ),
            models.UniqueConstraint(
                fields=["thread", "address"],
                condition=Q(user__isnull=True),
                name="participant_address_once",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(address=""),
                name="participant_is_someone",
            ),
        ]
        indexes = [models.Index(fields=["user", "thread"], name="participant_user_thread")]

    def __str__(self) -> str:
        return self.label

    @property
    def is_outside(self) -> bool:
        return self.user_id is None


class Message(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, related_name="messages")
    # None for a mail that came in from outside through the SMTP gateway.
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sent_messages",
    )
    sender_label = models.CharField(max_length=200)
    sender_address = models.EmailField(blank=True)
    body = models.TextField(_("message"))
    sent_at = models.DateTimeField(default=timezone.now)
    # RFC 5322 Message-ID of the mail sent out or received; replies find their thread by it.
    message_id = models.CharField(max_length=300, blank=True, db_index=True)
    inbound = models.BooleanField(default=False)

    class Meta:
        ordering = ["sent_at", "pk"]

    def __str__(self) -> str:
        return f"{self.sender_label} ({self.sent_at:%d/%m/%Y %H:%M})"


class DeliveryStatus(models.TextChoices):
    INTERNAL = "internal", _("delivered in Maillage")
    PENDING = "pending", _("being sent")
    SENT = "sent", _("sent")
    FAILED = "failed", _("not sent")


class Delivery(models.Model):
    """One message to one recipient: the read receipt inside, the SMTP status outside."""

    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="deliveries")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="message_deliveries",
    )
    address = models.EmailField(blank=True)
    label = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    # First opening by an internal recipient.
    read_at = models.DateTimeField(null=True, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="delivery_user_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.status}"

    @property
    def is_outside(self) -> bool:
        return self.user_id is None


class Attachment(models.Model):
    """A sealed file sent with a message. A file taken from the record is reused, not copied."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="attachments")
    file = models.ForeignKey("files.StoredFile", on_delete=models.PROTECT, related_name="+")
    # The record document it was taken from, if any.
    source_document = models.ForeignKey(
        "records.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The record document it was filed as, once filed.
    filed_as = models.ForeignKey(
        "records.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.message_id}/{self.file_id}"


class RefusedAttachment(models.Model):
    """An attachment of an incoming mail that failed the file checks: named, not kept."""

    message = models.ForeignKey(
        Message, on_delete=models.PROTECT, related_name="refused_attachments"
    )
    name = models.CharField(max_length=200)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name
