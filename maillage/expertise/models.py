"""Tele-expertise: a question about a patient, its routing, its exchanges, its deadline and its act.

A request is asked by a requester (``requester``, with their directory entry
for the act) to a named specialist (``assignee`` from the start) or to a
pool (``pool``, nobody assigned until one member claims it). Its clock runs
from ``submitted_at`` to ``due_at``; a hold (the specialist asked for more)
pauses it: ``due_at`` and the reminder times move by the hold's length when
the requester answers. The reminders and the escalation are sent once each:
their ``*_sent_at`` is set by one conditional UPDATE (``deadlines``).

Priorities, tariffs and limits are data (rows seeded by migration, changed
by an administrator), never constants in code.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.directory.terminology import Specialty


class PriorityCode(models.TextChoices):
    URGENT = "urgent", _("urgent")
    SOON = "soon", _("soon")
    ROUTINE = "routine", _("routine")


class Priority(models.Model):
    """A priority and the time its answer is due within: data (urgent 24 h, soon 72 h...)."""

    code = models.CharField(_("priority"), max_length=10, choices=PriorityCode.choices, unique=True)
    hours = models.PositiveSmallIntegerField(_("answer due within (hours)"))
    # FHIR request-priority code (routine | urgent | asap | stat).
    fhir_code = models.CharField(max_length=10)

    class Meta:
        ordering = ["hours"]
        verbose_name = _("tele-expertise priority")
        verbose_name_plural = _("tele-expertise priorities")

    def __str__(self) -> str:
        return f"{self.get_code_display()} ({self.hours} h)"


class PoolKind(models.TextChoices):
    SPECIALTY = "specialty", _("specialty pool of the territory")
    TEAM = "team", _("specialist team (ESS, hospital department)")


class Pool(models.Model):
    """A group that answers tele-expertise together: a specialty across the territory, or a team."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=PoolKind.choices)
    specialty = models.CharField(_("specialty"), max_length=5, choices=Specialty.choices)
    # The team's structure (ESS, hospital); none for a specialty pool of the territory.
    structure = models.ForeignKey(
        "directory.Structure", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tele-expertise pool")
        verbose_name_plural = _("tele-expertise pools")

    def __str__(self) -> str:
        return self.name


class PoolMember(models.Model):
    """A professional of a pool; those who answer are the directory's tele-expertise responders."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="members")
    professional = models.ForeignKey(
        "directory.Professional", on_delete=models.CASCADE, related_name="expertise_pools"
    )
    # Told when nobody in the pool is available and when a request is late.
    is_coordinator = models.BooleanField(_("coordinator"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pool", "professional"], name="pool_member_once")
        ]

    def __str__(self) -> str:
        return f"{self.professional} — {self.pool}"


class Status(models.TextChoices):
    DRAFT = "draft", _("draft")
    # Asked; nobody holds it yet (a pool request), or the named specialist has not taken it.
    WAITING = "waiting", _("waiting for a specialist")
    CLAIMED = "claimed", _("taken by a specialist")
    # The specialist asked for more: the requester's turn, the clock paused.
    ON_HOLD = "on_hold", _("waiting for your reply")
    CONCLUDED = "concluded", _("concluded")
    CANCELLED = "cancelled", _("cancelled")


OPEN_STATUSES = (Status.WAITING, Status.CLAIMED, Status.ON_HOLD)
# The statuses whose clock runs (on hold, it is the requester's turn).
RUNNING_STATUSES = (Status.WAITING, Status.CLAIMED)


class Recommendation(models.TextChoices):
    NONE = "none", _("no further act needed")
    CONSULTATION = "consultation", _("an in-person consultation")
    TELECONSULTATION = "teleconsultation", _("a teleconsultation")
    REFERRAL = "referral", _("a referral to a specialist or a hospital")


class Request(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="expertise_requests"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="expertise_asked"
    )
    requester_professional = models.ForeignKey(
        "directory.Professional", on_delete=models.PROTECT, related_name="expertise_asked"
    )
    pool = models.ForeignKey(
        Pool, null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    assignee = models.ForeignKey(
        "directory.Professional",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="expertise_assigned",
    )
    # The specialty asked (the pool's or the named specialist's), for routing and figures.
    specialty = models.CharField(max_length=5, choices=Specialty.choices, blank=True)
    question = models.TextField(_("clinical question"), blank=True)
    priority = models.ForeignKey(Priority, on_delete=models.PROTECT, related_name="+")
    # Record documents the requester chose to share with the request (decided again per reader).
    documents = models.ManyToManyField("records.Document", blank=True, related_name="+")
    # The patient's readings the requester chose as context (decided again per reader).
    readings = models.ManyToManyField("measurements.Observation", blank=True, related_name="+")
    # The patient's consent to the act: oral, recorded by the requester.
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    consent_recorded_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    first_answer_at = models.DateTimeField(null=True, blank=True)
    concluded_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The clock: due time and reminder times move together when a hold ends.
    due_at = models.DateTimeField(null=True, blank=True)
    remind_half_at = models.DateTimeField(null=True, blank=True)
    remind_ninety_at = models.DateTimeField(null=True, blank=True)
    hold_started_at = models.DateTimeField(null=True, blank=True)
    held_seconds = models.PositiveIntegerField(default=0)
    # Each notice of the clock once: set by the conditional UPDATE that queues it.
    half_sent_at = models.DateTimeField(null=True, blank=True)
    ninety_sent_at = models.DateTimeField(null=True, blank=True)
    late_sent_at = models.DateTimeField(null=True, blank=True)
    unstaffed_sent_at = models.DateTimeField(null=True, blank=True)
    recommendation = models.CharField(
        _("recommendation"), max_length=20, choices=Recommendation.choices, blank=True
    )
    conclusion = models.TextField(_("conclusion"), blank=True)
    opinion = models.ForeignKey(
        "records.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The specialist's place in the care team that the act gives (records.CareTeamMember).
    care_team_place = models.ForeignKey(
        "records.CareTeamMember", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why the opinion could not be filed or sent to someone (said on the request).
    opinion_problem = models.CharField(max_length=300, blank=True)
    # Bumped by every change: the page's live refresh and FHIR's versionId.
    version = models.PositiveIntegerField(default=1)
    # The response times, written once when they happen (``expertise.figures``
    # aggregates these columns alone, 300 000 requests in a few hundred ms):
    # the month it was asked (local), seconds to the first answer, seconds to
    # the conclusion without the time on hold, and whether it met its due time.
    asked_month = models.DateField(null=True, blank=True)
    answer_seconds = models.PositiveIntegerField(null=True, blank=True)
    conclusion_seconds = models.PositiveIntegerField(null=True, blank=True)
    concluded_on_time = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="xp_request_due"),
            models.Index(fields=["assignee", "status", "due_at"], name="xp_request_assignee"),
            models.Index(fields=["pool", "status", "due_at"], name="xp_request_pool"),
            models.Index(fields=["requester", "status"], name="xp_request_requester"),
            models.Index(fields=["patient", "status"], name="xp_request_patient"),
            models.Index(fields=["submitted_at"], name="xp_request_submitted"),
        ]

    def __str__(self) -> str:
        return f"{self.uuid} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_late(self) -> bool:
        return (
            self.status in RUNNING_STATUSES
            and self.due_at is not None
            and self.due_at <= timezone.now()
        )


class MessageKind(models.TextChoices):
    QUESTION = "question", _("question")
    ANSWER = "answer", _("answer")
    INFO_REQUEST = "info_request", _("asks for more")
    REPLY = "reply", _("reply")
    ADDITION = "addition", _("addition")
    CONCLUSION = "conclusion", _("conclusion")
    # Events of the workflow, shown in the conversation.
    CLAIMED = "claimed", _("took the request")
    HANDED_OVER = "handed_over", _("handed the request over")
    CANCELLED = "cancelled", _("cancelled the request")
    # The patient opposed the specialist who held it: back to the pool, or cancelled.
    RELEASED = "released", _("released the request")


# Kinds written by the specialist's side, and those that count as an answer.
ANSWER_KINDS = frozenset({MessageKind.ANSWER, MessageKind.INFO_REQUEST, MessageKind.CONCLUSION})


class Message(models.Model):
    """One step of the conversation (FHIR Communication, part of the request's Task)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(Request, on_delete=models.PROTECT, related_name="messages")
    # None for what the platform did itself (a request released after the patient's opposition).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    author_label = models.CharField(max_length=200)
    kind = models.CharField(max_length=15, choices=MessageKind.choices)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.created_at:%d/%m/%Y %H:%M}"


class Attachment(models.Model):
    """A file sent with the request (its draft: no message) or with one of its messages."""

    request = models.ForeignKey(Request, on_delete=models.PROTECT, related_name="attachments")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.ForeignKey("files.StoredFile", on_delete=models.PROTECT, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "pk"]

    def __str__(self) -> str:
        return f"{self.request_id}/{self.file_id}"


class ActCode(models.TextChoices):
    REQUESTER = "RQD", _("RQD — tele-expertise request (requesting professional)")
    SPECIALIST = "TE2", _("TE2 — tele-expertise (answering doctor)")


class Tariff(models.Model):
    """An act's tariff from a date, and the yearly number per patient it is billable for: data."""

    code = models.CharField(_("act"), max_length=5, choices=ActCode.choices)
    amount = models.DecimalField(_("amount (EUR)"), max_digits=7, decimal_places=2)
    valid_from = models.DateField(_("valid from"))
    yearly_limit_per_patient = models.PositiveSmallIntegerField(_("per patient and year"))

    class Meta:
        ordering = ["code", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="tariff_once_per_date")
        ]
        verbose_name = _("tele-expertise tariff")
        verbose_name_plural = _("tele-expertise tariffs")

    def __str__(self) -> str:
        return f"{self.code} {self.amount} € ({self.valid_from:%d/%m/%Y})"


class FiguresClock(models.Model):
    """How many times a response time was written (one row): the figures' kept copies compare it.

    Bumped after each first answer and conclusion commits (``figures.changed``).
    """

    changes = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.changes} changes"


class FiguresSnapshot(models.Model):
    """The response-time figures of one scope as last computed, and what they were computed from.

    Computing them sorts every duration of the scope (seconds at 300 000
    requests): the page reads this copy, and the minute job computes it
    again once the clock or the newest request has moved.
    """

    scope_key = models.CharField(max_length=200, unique=True)
    clock = models.PositiveBigIntegerField()
    last_request_id = models.BigIntegerField()
    computed_at = models.DateTimeField()
    raw = models.JSONField()

    def __str__(self) -> str:
        return f"{self.scope_key} @ {self.computed_at:%Y-%m-%d %H:%M}"
