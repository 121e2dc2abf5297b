"""Work that must happen exactly once, whatever the queue does: outgoing mail and periodic runs.

The task queue (django-tasks: the database, or RQ on Redis) only carries a
row's id; the row is the truth. A worker claims a row with one conditional
UPDATE (``claims.claim``) before it acts, so a task delivered twice, a
duplicate enqueue by the sweep, or two workers racing do the work once. A
worker killed in the middle leaves the row claimed; after
``MAILLAGE_TASK_CLAIM_TIMEOUT`` seconds the sweep hands it to another.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WorkStatus(models.TextChoices):
    PENDING = "pending", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class Claimable(models.Model):
    """What a worker needs to claim, retry with backoff, and give up on a row."""

    status = models.CharField(max_length=10, choices=WorkStatus.choices, default=WorkStatus.PENDING)
    # The current attempt: set by the claim, checked by every later write of the worker.
    attempt = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # When the sweep (or the request) last put a task for this row in the queue.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class MailKind(models.TextChoices):
    NOTICE = "notice", _("notice")
    MESSAGE = "message", _("secure message")


class OutgoingMail(Claimable):
    """One mail to one address, sent once: a notice, or a secure message to an outside address.

    ``key`` is the idempotency key: whoever asks twice for the same notice or
    delivery gets the same row. A notice carries its text (never health data:
    ``accounts.notify``); a secure message is rebuilt from the message at each
    attempt by ``messaging.actions.outside_mail``. ``message_id`` is fixed at
    creation, so every attempt carries the same Message-ID.
    """

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=10, choices=MailKind.choices)
    to_address = models.EmailField()
    message_id = models.CharField(max_length=300)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    delivery = models.OneToOneField(
        "messaging.Delivery",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outgoing",
    )

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outgoing_due")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}: {self.status}"

    @property
    def shown_address(self) -> str:
        """For the administrators: a professional's MSSanté address, only the domain of a person's.

        That a notice went to someone can say something about them (a record
        opened in an emergency): administrators see where mail fails, not who.
        """
        if self.kind == MailKind.MESSAGE:
            return self.to_address
        return "…@" + self.to_address.rpartition("@")[2]


class ScheduledRun(Claimable):
    """One run of a periodic job for one due minute: the row is created once per (job, due)."""

    job = models.CharField(max_length=100)
    due_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "due_at"], name="scheduled_run_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="scheduled_due")]
        ordering = ["-due_at"]

    def __str__(self) -> str:
        return f"{self.job} @ {self.due_at:%Y-%m-%d %H:%M}"
