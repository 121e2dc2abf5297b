"""The shared record: documents, care team, consents, habilitations, break-the-glass."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DocumentType(models.TextChoices):
    TELECONSULTATION_REPORT = "teleconsultation_report", _("Teleconsultation report")
    TELEEXPERTISE_OPINION = "teleexpertise_opinion", _("Tele-expertise opinion")
    PRESCRIPTION = "prescription", _("Prescription")
    LAB_RESULTS = "lab_results", _("Laboratory results")
    IMAGING_REPORT = "imaging_report", _("Imaging report")
    LIAISON_LETTER = "liaison_letter", _("Liaison letter")
    EMERGENCY_LIAISON = "emergency_liaison", _("Emergency liaison record (EHPAD)")
    PHOTO = "photo", _("Photo")
    ECG = "ecg", _("ECG trace")
    SOUND = "sound", _("Sound recording")
    OTHER = "other", _("Other document")
    # A LOINC document type that names none of the types above (the DMP
    # accepts any LOINC code, STANDARDS.md): the code is kept on the document
    # as sent, and the habilitation matrix decides who sees this type. Its
    # default is doctors only, since nothing says what such a document holds
    # (records.habilitations).
    UNCLASSIFIED = "unclassified", _("Unclassified document (LOINC type)")


class DocumentStatus(models.TextChoices):
    CURRENT = "current", _("current")
    REPLACED = "replaced", _("replaced by a newer version")
    WITHDRAWN = "withdrawn", _("withdrawn")


class Document(models.Model):
    """A document of a patient's record. Never deleted: replaced or withdrawn."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="documents"
    )
    type = models.CharField(_("type"), max_length=30, choices=DocumentType.choices)
    # The LOINC type code as the client sent it (FHIR API), never replaced by
    # another; empty for a document filed from the pages, whose LOINC code
    # follows from ``type``.
    loinc_code = models.CharField(_("LOINC type code"), max_length=10, blank=True)
    loinc_display = models.CharField(_("LOINC type name"), max_length=200, blank=True)
    title = models.CharField(_("title"), max_length=200)
    # When the act took place or the document was written, as its author says.
    date = models.DateField(_("date of the document"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_documents"
    )
    author_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.CURRENT
    )
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.CharField(max_length=300, blank=True)
    # Visibility set by the author (TRE_A07). The patient's own masking is a Consent.
    hidden_from_patient = models.BooleanField(_("not visible to the patient"), default=False)
    hidden_from_legal_representatives = models.BooleanField(
        _("not visible to the legal representatives"), default=False
    )
    files = models.ManyToManyField("files.StoredFile", through="DocumentFile", related_name="+")

    class Meta:
        ordering = ["-date", "-created_at"]
        indexes = [models.Index(fields=["patient", "status", "-date"], name="document_patient")]

    def __str__(self) -> str:
        return self.title


class DocumentFile(models.Model):
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="document_files")
    file = models.ForeignKey("files.StoredFile", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "file"], name="document_file_once")
        ]

    def __str__(self) -> str:
        return f"{self.document_id}/{self.file_id}"


class CareTeamReason(models.TextChoices):
    NAMED_BY_PATIENT = "named", _("named by the patient")
    ACT = "act", _("involved in an act")


class CareTeamMember(models.Model):
    """A professional of the patient's care team besides the médecin traitant."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="care_team"
    )
    professional = models.ForeignKey(
        "directory.Professional", on_delete=models.CASCADE, related_name="care_teams"
    )
    reason = models.CharField(max_length=10, choices=CareTeamReason.choices)
    # An act gives a time-limited place; a professional the patient names stays.
    valid_until = models.DateTimeField(null=True, blank=True)
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "professional"], name="careteam_lookup")]

    def __str__(self) -> str:
        return f"{self.professional} ({self.get_reason_display()})"


class ConsentKind(models.TextChoices):
    SHARING = "sharing", _("Sharing of the record with the care team")
    OPPOSE_PROFESSIONAL = "oppose_professional", _("Opposition to a professional")
    OPPOSE_EMERGENCY = "oppose_emergency", _("Opposition to emergency access")
    MASK_DOCUMENT = "mask_document", _("Document masked from professionals")


class Consent(models.Model):
    """A dated statement of the patient's will. Later statements supersede; none is erased.

    SHARING has ``granted`` true (consent) or false (refusal); the others are
    in force from ``recorded_at`` until ``withdrawn_at``.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="consents"
    )
    kind = models.CharField(max_length=30, choices=ConsentKind.choices)
    granted = models.BooleanField(default=True)
    professional = models.ForeignKey(
        "directory.Professional", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="masks"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        indexes = [models.Index(fields=["patient", "kind"], name="consent_patient_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.recorded_at:%d/%m/%Y})"

    @property
    def in_force(self) -> bool:
        return self.withdrawn_at is None


class HabilitationRule(models.Model):
    """Which role may read or write which type of document: the matrix, as data."""

    role = models.CharField(_("role"), max_length=20)
    document_type = models.CharField(_("type"), max_length=30, choices=DocumentType.choices)
    can_read = models.BooleanField(_("may read"), default=False)
    can_write = models.BooleanField(_("may write"), default=False)

    class Meta:
        ordering = ["role", "document_type"]
        constraints = [
            models.UniqueConstraint(fields=["role", "document_type"], name="habilitation_once")
        ]
        verbose_name = _("habilitation")
        verbose_name_plural = _("habilitation matrix")

    def __str__(self) -> str:
        return f"{self.role} / {self.document_type}"


class ReviewOutcome(models.TextChoices):
    JUSTIFIED = "justified", _("justified")
    UNJUSTIFIED = "unjustified", _("not justified")
    FOLLOW_UP = "follow_up", _("to follow up with the professional")


class BreakGlassAccess(models.Model):
    """An emergency opening of a record by someone outside the care team."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="break_glass_accesses"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_outcome = models.CharField(
        _("outcome of the review"), max_length=20, choices=ReviewOutcome.choices, blank=True
    )
    review_note = models.TextField(_("note of the review"), blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["patient", "user", "expires_at"], name="breakglass_active")]

    def __str__(self) -> str:
        return f"{self.user} → {self.patient_id} ({self.started_at:%d/%m/%Y %H:%M})"

    def is_active(self, at: object = None) -> bool:
        return self.expires_at > (at or timezone.now())  # type: ignore[operator]
