"""Agendas and appointments: who is available when, where and how; who is booked.

A ``Schedule`` is one professional's agenda at one place (a structure; none
for a remote-only agenda). Its ``WeeklyRule`` rows say when they receive,
with the length of a slot and its modality (in person, remote or both);
``Absence`` rows say when they do not. Slots are rows (``Slot``), generated
ahead from the rules (``agenda.slots``, on a rule's save and by a periodic
job), so that a FHIR Slot has an id and booking one is a conditional UPDATE
of its status (free → busy): of several bookings of one slot at once,
exactly one wins. A partial unique constraint on the appointment's slot
(while the appointment holds it) is the second lock, in the database.

An ``Appointment`` names the patient, the professional, the place, the time,
the modality chosen at booking, the reason and who booked it. Cancelling
frees its slot; moving books another slot and cancels the first in one
transaction; a no-show is recorded by the professional's side. The
reminders (24 h and 1 h before, by email and SMS) are sent once each: their
``*_sent_at`` is set by one conditional UPDATE (``agenda.reminders``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from maillage.tasks.models import Claimable


class Modality(models.TextChoices):
    """How an appointment happens, chosen at booking."""

    IN_PERSON = "in_person", _("in person")
    REMOTE = "remote", _("remote (teleconsultation)")


class SlotModality(models.TextChoices):
    """How a slot may be booked."""

    IN_PERSON = "in_person", _("in person")
    REMOTE = "remote", _("remote (teleconsultation)")
    BOTH = "both", _("in person or remote")


def accepts(slot_modality: str, modality: str) -> bool:
    return slot_modality == SlotModality.BOTH or slot_modality == modality


class Schedule(models.Model):
    """One professional's agenda at one place (FHIR Schedule)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    professional = models.ForeignKey(
        "directory.Professional",
        on_delete=models.PROTECT,
        related_name="schedules",
        verbose_name=_("professional"),
    )
    # Where the in-person slots are; none for an agenda of remote slots only.
    structure = models.ForeignKey(
        "directory.Structure",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="schedules",
        verbose_name=_("structure"),
    )
    active = models.BooleanField(_("open for booking"), default=True)
    # How far ahead slots are generated and offered.
    horizon_days = models.PositiveSmallIntegerField(_("booking horizon (days)"), default=28)
    # The shortest notice a booking by the patient needs (a secretary books up to the slot).
    min_notice_minutes = models.PositiveIntegerField(_("minimum notice (minutes)"), default=60)
    comment = models.CharField(_("comment"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["professional__last_name", "pk"]
        verbose_name = _("agenda")
        verbose_name_plural = _("agendas")
        constraints = [
            models.UniqueConstraint(
                fields=["professional", "structure"], name="agenda_schedule_once_per_place"
            )
        ]

    def __str__(self) -> str:
        place = self.structure.name if self.structure is not None else _("remote")
        return f"{self.professional} — {place}"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WeeklyRule(models.Model):
    """A recurring weekly availability: a weekday, hours (local time), slot length, modality."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="rules")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("to"))
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), default=20)
    modality = models.CharField(
        _("modality"), max_length=10, choices=SlotModality.choices, default=SlotModality.BOTH
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["weekday", "start_time"]
        verbose_name = _("weekly availability")
        verbose_name_plural = _("weekly availabilities")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")), name="agenda_rule_ends_after"
            ),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5, slot_minutes__lte=240),
                name="agenda_rule_slot_length",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class Absence(models.Model):
    """A time the professional does not receive (holiday, training): no slot is offered in it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    professional = models.ForeignKey(
        "directory.Professional", on_delete=models.CASCADE, related_name="absences"
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("to"))
    # Shown to the professional's side only, never to patients.
    label = models.CharField(_("label"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start"]
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="agenda_absence_ends"
            )
        ]

    def __str__(self) -> str:
        return f"{self.professional} {self.start:%Y-%m-%d}-{self.end:%Y-%m-%d}"


class SlotStatus(models.TextChoices):
    """FHIR slotstatus codes (free, busy, busy-unavailable)."""

    FREE = "free", _("free")
    BUSY = "busy", _("booked")
    UNAVAILABLE = "busy-unavailable", _("unavailable")


class Slot(models.Model):
    """A bookable time of a schedule (FHIR Slot); its status changes by conditional UPDATE."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="slots")
    rule = models.ForeignKey(
        WeeklyRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="slots"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    modality = models.CharField(_("modality"), max_length=10, choices=SlotModality.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=SlotStatus.choices, default=SlotStatus.FREE
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start", "pk"]
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        constraints = [
            models.UniqueConstraint(fields=["schedule", "start"], name="agenda_slot_once"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="agenda_slot_ends"),
        ]
        indexes = [
            models.Index(fields=["status", "start"], name="agenda_slot_status_start"),
            models.Index(fields=["schedule", "status", "start"], name="agenda_slot_sched_status"),
        ]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} {self.status}"


class AppointmentStatus(models.TextChoices):
    """FHIR appointmentstatus codes used here."""

    BOOKED = "booked", _("booked")
    FULFILLED = "fulfilled", _("took place")
    CANCELLED = "cancelled", _("cancelled")
    NOSHOW = "noshow", _("patient did not come")


# An appointment in these statuses holds its slot.
HOLDING_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.FULFILLED, AppointmentStatus.NOSHOW)


class Appointment(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="appointments"
    )
    professional = models.ForeignKey(
        "directory.Professional", on_delete=models.PROTECT, related_name="appointments"
    )
    # Where it happens in person, or the structure whose agenda it was booked in.
    structure = models.ForeignKey(
        "directory.Structure",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    slot = models.ForeignKey(
        Slot, null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    modality = models.CharField(_("modality"), max_length=10, choices=Modality.choices)
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.BOOKED,
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments_booked"
    )
    booked_at = models.DateTimeField(auto_now_add=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    # The appointment this one replaced when it was moved.
    moved_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="moved_to"
    )
    noshow_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    noshow_recorded_at = models.DateTimeField(null=True, blank=True)
    # Each reminder is sent once: set by a conditional UPDATE (agenda.reminders).
    reminder_24h_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_1h_sent_at = models.DateTimeField(null=True, blank=True)
    # Bumped by each change, for notices' idempotency keys and FHIR versions.
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start", "pk"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [
            # The database's own guard against a double booking of a slot.
            models.UniqueConstraint(
                fields=["slot"],
                condition=Q(status__in=["booked", "fulfilled", "noshow"]),
                name="agenda_one_appointment_per_slot",
            ),
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="agenda_appointment_ends"
            ),
        ]
        indexes = [
            models.Index(fields=["professional", "start"], name="agenda_appt_pro_start"),
            models.Index(fields=["patient", "start"], name="agenda_appt_patient_start"),
            models.Index(fields=["status", "start"], name="agenda_appt_status_start"),
        ]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} {self.get_modality_display()}"

    @property
    def is_remote(self) -> bool:
        return self.modality == Modality.REMOTE


class FeedDetail(models.TextChoices):
    """What the private calendar feed says of each appointment (a calendar app keeps it)."""

    BUSY = "busy", _("only that a slot is booked, and its modality")
    INITIALS = "initials", _("the patient's initials")
    NAMES = "names", _("the patient's name (decided by the policy for each one)")


class CalendarFeed(models.Model):
    """A professional's private iCalendar feed: a secret URL, revocable, its detail chosen."""

    professional = models.OneToOneField(
        "directory.Professional", on_delete=models.CASCADE, related_name="calendar_feed"
    )
    # SHA-256 of the token in the URL; the token itself is shown once.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    detail = models.CharField(
        _("what the feed shows"), max_length=10, choices=FeedDetail.choices, default=FeedDetail.BUSY
    )
    created_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.professional}"

    @property
    def active(self) -> bool:
        return bool(self.token_hash) and self.revoked_at is None


class OutgoingSms(Claimable):
    """One SMS to one number, sent once by the worker through the SMS backend (``agenda.sms``).

    ``key`` is the idempotency key (the appointment, the step, the receiver):
    whoever asks twice gets the same row. The text carries no health data.
    """

    key = models.CharField(max_length=200, unique=True)
    to_number = models.CharField(max_length=20)
    body = models.CharField(max_length=480)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the provider answered (its message id), once sent.
    provider_id = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="agenda_sms_due")]
        verbose_name = _("outgoing SMS")
        verbose_name_plural = _("outgoing SMS")

    def __str__(self) -> str:
        return f"sms {self.key}: {self.status}"
