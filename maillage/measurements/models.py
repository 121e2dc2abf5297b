"""Readings in the record: Observation, the Device that made them, and Media.

An ``Observation`` is one reading of one patient (FHIR Observation): its
LOINC code (and MDC code, see ``codes``), a value with its UCUM unit or,
for blood pressure, its components; when it was taken, by whom (the
professional, ``performer``), during which teleconsultation (``encounter``)
and with which ``Device``; how it came (Bluetooth, typed, imported). The
doctor marks the readings that matter (``significant``). A reading is never
erased: a wrong one is marked entered-in-error, and each change raises
``version`` (FHIR meta.versionId).

A ``Media`` is a photo, a sound or an ECG tracing taken for the patient: its
file is a ``StoredFile`` (sealed at rest, checked by ``files.storage``).
A ``Device`` is a piece of equipment (a van's oximeter, a booth's
stethoscope): not patient data.
"""

from __future__ import annotations

import uuid
from typing import TypedDict

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Method(models.TextChoices):
    BLUETOOTH = "bluetooth", _("Bluetooth device")
    MANUAL = "manual", _("typed by hand")
    IMPORT = "import", _("imported from a file")
    CAPTURE = "capture", _("captured from the video")


class Status(models.TextChoices):
    FINAL = "final", _("final")
    AMENDED = "amended", _("amended")
    ENTERED_IN_ERROR = "entered-in-error", _("entered in error")


class DeviceKind(models.TextChoices):
    BLOOD_PRESSURE = "blood_pressure", _("blood-pressure monitor")
    THERMOMETER = "thermometer", _("thermometer")
    PULSE_OXIMETER = "pulse_oximeter", _("pulse oximeter")
    WEIGHT_SCALE = "weight_scale", _("weight scale")
    GLUCOSE_METER = "glucose_meter", _("glucose meter")
    ECG = "ecg", _("electrocardiograph")
    STETHOSCOPE = "stethoscope", _("digital stethoscope")
    OTOSCOPE = "otoscope", _("otoscope")
    DERMATOSCOPE = "dermatoscope", _("dermatoscope")
    CAMERA = "camera", _("camera")
    OTHER = "other", _("other device")


class Device(models.Model):
    """A device readings come from (FHIR Device): no patient data."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("type"), max_length=20, choices=DeviceKind.choices)
    manufacturer = models.CharField(_("manufacturer"), max_length=100, blank=True)
    model_number = models.CharField(_("model"), max_length=100, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    # The IEEE EUI-64 system id a Bluetooth device publishes (16 hex digits).
    system_id = models.CharField(_("system id"), max_length=16, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["manufacturer", "model_number", "pk"]
        constraints = [
            # One row per physical device, found again by its system id.
            models.UniqueConstraint(
                fields=["system_id"],
                condition=~models.Q(system_id=""),
                name="measurements_device_one_system_id",
            )
        ]
        verbose_name = _("device")
        verbose_name_plural = _("devices")

    def __str__(self) -> str:
        return " ".join(p for p in (self.manufacturer, self.model_number) if p) or self.kind


class Component(TypedDict):
    """One component of a panel (a blood pressure's systolic...), as stored."""

    code: str  # LOINC
    value: str  # decimal, as text: exact
    unit: str  # UCUM


class Observation(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="observations"
    )
    code = models.CharField(_("code"), max_length=20)  # LOINC (codes.CODES)
    category = models.CharField(_("category"), max_length=20)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.FINAL
    )
    # A single value and its UCUM unit; empty for a panel.
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=4, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    # Each a Component (a panel: blood pressure).
    components = models.JSONField(default=list, blank=True)
    effective_at = models.DateTimeField(_("taken at"))
    issued_at = models.DateTimeField(default=timezone.now)
    performer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    # The performer's name when the reading was taken (the account may be renamed).
    performer_label = models.CharField(max_length=200, blank=True)
    encounter = models.ForeignKey(
        "teleconsult.Consultation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="observations",
    )
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.PROTECT, related_name="observations"
    )
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    significant = models.BooleanField(_("significant"), default=False)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-effective_at", "-pk"]
        indexes = [
            models.Index(fields=["patient", "code", "-effective_at"], name="measure_patient_code"),
            models.Index(fields=["patient", "-effective_at"], name="measure_patient_time"),
        ]
        verbose_name = _("measurement")
        verbose_name_plural = _("measurements")

    def __str__(self) -> str:
        return f"{self.uuid} {self.code}"


class MediaKind(models.TextChoices):
    PHOTO = "photo", _("photo")
    SOUND = "sound", _("sound")
    ECG = "ecg", _("ECG tracing")
    VIDEO = "video", _("video")


class Media(models.Model):
    """A photo, sound or ECG tracing of the patient (FHIR Media); its file is sealed."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="media")
    kind = models.CharField(_("type"), max_length=10, choices=MediaKind.choices)
    title = models.CharField(_("title"), max_length=200, blank=True)
    file = models.ForeignKey("files.StoredFile", on_delete=models.PROTECT, related_name="+")
    taken_at = models.DateTimeField(_("taken at"))
    performer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    performer_label = models.CharField(max_length=200, blank=True)
    encounter = models.ForeignKey(
        "teleconsult.Consultation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="media",
    )
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.PROTECT, related_name="media"
    )
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.FINAL
    )
    significant = models.BooleanField(_("significant"), default=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-taken_at", "-pk"]
        indexes = [models.Index(fields=["patient", "-taken_at"], name="media_patient_time")]
        verbose_name = _("media")
        verbose_name_plural = _("media")

    def __str__(self) -> str:
        return f"{self.uuid} {self.kind}"
