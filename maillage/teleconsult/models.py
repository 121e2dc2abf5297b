"""Teleconsultation: the act (FHIR Encounter), who takes part, guests' links, consent, incidents.

A ``Consultation`` is one remote act between a doctor and a patient. Its
``Participant`` rows are everyone who may enter its room: the doctor and the
patient, and up to two third parties (family, interpreter, a second
professional, the professional beside the patient). A participant is an
account (``user``) or a guest with no account who came through a
single-use ``Invitation`` (only the SHA-256 of its token is kept; a patient
guest also types her birth date). Nobody reaches the room before the doctor
admits them (``admitted_at``); once admitted, a participant who dropped
comes back without being admitted again, until they leave or the act ends.

``Consent`` records the patient's consent to the remote act (HAS 2019):
who gave it, for whom, when, and the wording shown. ``Incident`` rows are
the technical incidents kept with the act (CSP R.6316-4): drops,
reconnections, audio-only switches, failures, with their times.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    PLANNED = "planned", _("planned")
    WAITING = "waiting", _("patient waiting")
    IN_PROGRESS = "in_progress", _("in progress")
    FINISHED = "finished", _("finished")
    CANCELLED = "cancelled", _("cancelled")


OPEN_STATUSES = frozenset({Status.PLANNED, Status.WAITING, Status.IN_PROGRESS})
# FHIR Encounter.status for each of ours.
FHIR_STATUS = {
    Status.PLANNED: "planned",
    Status.WAITING: "arrived",
    Status.IN_PROGRESS: "in-progress",
    Status.FINISHED: "finished",
    Status.CANCELLED: "cancelled",
}


class Modality(models.TextChoices):
    VIDEO = "video", _("video")
    # The whole act, or what it became, by sound only.
    AUDIO = "audio", _("audio only")
    # A nurse or a pharmacist beside the patient (TLS, TLL, TLD).
    ASSISTED = "assisted", _("assisted by a professional beside the patient")


class Consultation(models.Model):
    """One teleconsultation: the act, and its FHIR Encounter (class VR)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="teleconsultations"
    )
    # The doctor of the act, in the directory (RPPS for the act and FHIR).
    doctor = models.ForeignKey(
        "directory.Professional", on_delete=models.PROTECT, related_name="teleconsultations"
    )
    # The remote appointment it was booked as (agenda), when it was.
    appointment = models.OneToOneField(
        "agenda.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="teleconsultation",
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    modality = models.CharField(
        _("modality"), max_length=10, choices=Modality.choices, default=Modality.VIDEO
    )
    planned_start = models.DateTimeField(_("planned start"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The doctor admitted the first participant: the act began.
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["doctor", "status"], name="teleconsult_doctor_status")]
        verbose_name = _("teleconsultation")
        verbose_name_plural = _("teleconsultations")

    def __str__(self) -> str:
        return f"{self.uuid} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ParticipantRole(models.TextChoices):
    PATIENT = "patient", _("patient")
    DOCTOR = "doctor", _("doctor")
    FAMILY = "family", _("family member or carer")
    INTERPRETER = "interpreter", _("interpreter")
    SECOND_PROFESSIONAL = "second_professional", _("second professional")
    # The nurse or pharmacist beside the patient.
    ASSISTANT = "assistant", _("professional beside the patient")


# Roles a guest invited by link may have (the doctor is always an account).
GUEST_ROLES = frozenset(
    {
        ParticipantRole.PATIENT,
        ParticipantRole.FAMILY,
        ParticipantRole.INTERPRETER,
        ParticipantRole.SECOND_PROFESSIONAL,
        ParticipantRole.ASSISTANT,
    }
)


class Quality(models.TextChoices):
    UNKNOWN = "unknown", _("unknown")
    GOOD = "good", _("good")
    FAIR = "fair", _("fair")
    POOR = "poor", _("poor")


class Participant(models.Model):
    """Someone who may enter one consultation's room: an account or a guest."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="teleconsult_places",
    )
    # How a guest is named on screen (given by the doctor at the invitation).
    display_name = models.CharField(_("name"), max_length=150)
    role = models.CharField(_("role"), max_length=20, choices=ParticipantRole.choices)
    invited_at = models.DateTimeField(auto_now_add=True)
    # Came into the waiting room (the last time).
    joined_at = models.DateTimeField(null=True, blank=True)
    admitted_at = models.DateTimeField(null=True, blank=True)
    admitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    left_at = models.DateTimeField(null=True, blank=True)
    # A socket of this participant is open now (waiting or in the room).
    online = models.BooleanField(default=False)
    # The connection quality its browser last reported (getStats), and when.
    quality = models.CharField(max_length=10, choices=Quality.choices, default=Quality.UNKNOWN)
    quality_detail = models.JSONField(default=dict, blank=True)
    quality_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["invited_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "user"],
                condition=models.Q(user__isnull=False),
                name="teleconsult_one_place_per_user",
            )
        ]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")

    def __str__(self) -> str:
        return f"{self.display_name} ({self.role})"

    @property
    def is_guest(self) -> bool:
        return self.user_id is None

    @property
    def in_room(self) -> bool:
        return self.admitted_at is not None and self.left_at is None


class InvitationChannel(models.TextChoices):
    EMAIL = "email", _("email")
    SMS = "sms", _("SMS")


class Invitation(models.Model):
    """A single-use link for a guest with no account; only its token's SHA-256 is kept."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, related_name="invitation"
    )
    channel = models.CharField(max_length=5, choices=InvitationChannel.choices)
    # The email address or the phone number the link was sent to.
    address = models.CharField(max_length=254)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # A patient guest proves who she is with her birth date; wrong tries are counted.
    checks_birth_date = models.BooleanField(default=False)
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.participant} ({self.channel})"


class Consent(models.Model):
    """The patient's consent to the remote act (HAS 2019), as given, with its wording."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="consents"
    )
    # Who clicked: the patient herself, or the professional beside her for her.
    given_by = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    given_at = models.DateTimeField()
    wording = models.TextField()

    class Meta:
        ordering = ["given_at"]
        verbose_name = _("consent to the teleconsultation")
        verbose_name_plural = _("consents to the teleconsultation")

    def __str__(self) -> str:
        return f"{self.consultation_id} {self.given_at:%Y-%m-%d %H:%M}"


class IncidentKind(models.TextChoices):
    DROP = "drop", _("connection lost")
    RECONNECTION = "reconnection", _("reconnected")
    AUDIO_ONLY = "audio_only", _("switched to audio only")
    VIDEO_BACK = "video_back", _("video back")
    FAILURE = "failure", _("technical failure")


class Incident(models.Model):
    """A technical incident of the act, kept with it (CSP R.6316-4)."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="incidents"
    )
    participant = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("incident"), max_length=15, choices=IncidentKind.choices)
    at = models.DateTimeField()
    # For an incident that lasted (a drop until the reconnection).
    ended_at = models.DateTimeField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("technical incident")
        verbose_name_plural = _("technical incidents")

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%H:%M:%S}"


class ChatMessage(models.Model):
    """A line of the room's chat, kept with the act."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="chat_messages"
    )
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    text = models.TextField(max_length=2000)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.at:%H:%M}"


class SharedFile(models.Model):
    """A file shared in the room; it enters the record only when the doctor files it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="shared_files"
    )
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    file = models.ForeignKey("files.StoredFile", on_delete=models.PROTECT, related_name="+")
    shared_at = models.DateTimeField()
    # Set once the doctor filed it in the record (through the record's gate).
    document = models.ForeignKey(
        "records.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["shared_at", "pk"]

    def __str__(self) -> str:
        return str(self.file_id)
