from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from maillage.directory.terminology import TELEEXPERTISE_RESPONDERS, Profession, Specialty
from maillage.directory.validators import validate_finess, validate_rpps, validate_siret
from maillage.lib.names import normalise_name


class StructureKind(models.TextChoices):
    MSP = "msp", _("Multi-professional health house (MSP)")
    HEALTH_CENTRE = "health_centre", _("Health centre")
    PHARMACY = "pharmacy", _("Pharmacy")
    TELECONSULTATION_POINT = "teleconsultation_point", _("Teleconsultation point (town hall...)")
    EHPAD = "ehpad", _("Nursing home (EHPAD)")
    HOSPITAL = "hospital", _("Health establishment")
    CPTS = "cpts", _("Territorial health community (CPTS)")
    SPECIALIST_TEAM = "specialist_team", _("Specialised care team (ESS)")
    MOBILE_UNIT = "mobile_unit", _("Mobile teleconsultation unit")


# Kinds whose equipment the directory lists.
EQUIPPED_KINDS = frozenset(
    {StructureKind.TELECONSULTATION_POINT, StructureKind.MOBILE_UNIT, StructureKind.PHARMACY}
)


class EquipmentKind(models.TextChoices):
    CAMERA = "camera", _("Camera")
    OTOSCOPE = "otoscope", _("Otoscope")
    STETHOSCOPE = "stethoscope", _("Connected stethoscope")
    ECG = "ecg", _("ECG")
    OXIMETER = "oximeter", _("Pulse oximeter")
    BP_MONITOR = "bp_monitor", _("Blood-pressure monitor")
    THERMOMETER = "thermometer", _("Thermometer")
    SCALE = "scale", _("Scale")
    DERMATOSCOPE = "dermatoscope", _("Dermatoscope")


class FinessType(models.TextChoices):
    GEOGRAPHIC = "FINEG", _("Geographic establishment (FINEG)")
    LEGAL = "FINEJ", _("Legal entity (FINEJ)")


class Structure(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=StructureKind.choices)
    commune = models.ForeignKey(
        "territory.Commune",
        on_delete=models.PROTECT,
        related_name="structures",
        verbose_name=_("commune"),
    )
    address_line = models.CharField(_("address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=5, blank=True)
    finess = models.CharField(
        _("FINESS number"),
        max_length=9,
        null=True,
        blank=True,
        unique=True,
        validators=[validate_finess],
    )
    finess_type = models.CharField(
        _("FINESS type"), max_length=5, choices=FinessType.choices, blank=True
    )
    siret = models.CharField(
        _("SIRET number"),
        max_length=14,
        null=True,
        blank=True,
        unique=True,
        validators=[validate_siret],
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    secure_messaging_address = models.EmailField(_("secure-messaging address"), blank=True)
    active = models.BooleanField(default=True)
    # The directory keeps no versions: its FHIR resources say when they changed.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("structure")
        verbose_name_plural = _("structures")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.finess and not self.finess_type:
            raise ValidationError(
                {"finess_type": _("Say whether the FINESS number is FINEG or FINEJ.")}
            )


class StructureEquipment(models.Model):
    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="equipment")
    kind = models.CharField(_("equipment"), max_length=20, choices=EquipmentKind.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "kind"], name="equipment_once_per_structure"
            )
        ]
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.get_kind_display()


class MailboxType(models.TextChoices):
    """MSSanté mailbox types of the national directory."""

    PERSONAL = "PER", _("Personal")
    ORGANISATIONAL = "ORG", _("Organisational")
    APPLICATION = "APP", _("Application")
    PRACTICE = "CAB", _("Practice")


class Professional(models.Model):
    """A health professional of the directory (RPPS)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    rpps = models.CharField(
        _("RPPS number"), max_length=11, unique=True, validators=[validate_rpps]
    )
    last_name = models.CharField(_("last name"), max_length=100)
    first_name = models.CharField(_("first name"), max_length=100)
    # Accent- and case-free last name, for searches typed by people.
    search_name = models.CharField(max_length=100, db_index=True, editable=False, default="")
    profession = models.CharField(_("profession"), max_length=2, choices=Profession.choices)
    specialty = models.CharField(
        _("specialty"), max_length=5, choices=Specialty.choices, blank=True
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="professional",
    )
    structures = models.ManyToManyField(
        Structure, through="Practice", related_name="professionals", verbose_name=_("structures")
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    secure_messaging_address = models.EmailField(_("MSSanté address"), blank=True)
    mailbox_type = models.CharField(
        _("mailbox type"), max_length=3, choices=MailboxType.choices, default=MailboxType.PERSONAL
    )
    # The professional asked not to appear in the public MSSanté directory.
    mailbox_unlisted = models.BooleanField(_("unlisted mailbox"), default=False)
    accepts_teleexpertise = models.BooleanField(_("answers tele-expertise"), default=False)
    teleexpertise_response_hours = models.PositiveSmallIntegerField(
        _("committed response time (hours)"), null=True, blank=True
    )
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("professional")
        verbose_name_plural = _("professionals")
        indexes = [models.Index(fields=["profession", "specialty"], name="professional_prof_spec")]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: object, **kwargs: object) -> None:
        self.search_name = normalise_name(self.last_name)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def display_name(self) -> str:
        title = "Dr " if self.profession == Profession.DOCTOR else ""
        return f"{title}{self.first_name} {self.last_name}"

    def clean(self) -> None:
        if self.accepts_teleexpertise and self.profession not in TELEEXPERTISE_RESPONDERS:
            raise ValidationError(
                {"accepts_teleexpertise": _("Only doctors and midwives answer tele-expertise.")}
            )
        if self.accepts_teleexpertise and not self.teleexpertise_response_hours:
            raise ValidationError(
                {"teleexpertise_response_hours": _("Give the response time you commit to.")}
            )
        if self.specialty and self.profession != Profession.DOCTOR:
            raise ValidationError({"specialty": _("Only doctors have an ordinal specialty here.")})


class Practice(models.Model):
    """A professional working in a structure (FHIR PractitionerRole)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    professional = models.ForeignKey(
        Professional, on_delete=models.CASCADE, related_name="practices"
    )
    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="practices")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["professional", "structure"], name="practice_once")
        ]

    def __str__(self) -> str:
        return f"{self.professional} — {self.structure}"
