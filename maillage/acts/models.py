"""Teleconsultation acts: the billing rules and tariffs as data, then the act and its report.

The rules of STANDARDS.md ("Telemedicine acts") are rows, not constants: a
tariff, a rule of the coordinated pathway (with its parameter: 12 months, 16
years, 20 %), a direct-access specialty, an under-served commune, each valid
from a date (and until one, when it ends). A change of convention is a new row
from its date; the old one still decides for earlier acts. The rows a new
platform starts with are in ``defaults`` (written by a data migration).
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.directory.terminology import Specialty


class BillingCode(models.TextChoices):
    # NGAP: a GP in sector 1 or with OPTAM bills TCG; anyone else TC.
    TCG = "TCG", _("TCG — teleconsultation by a general practitioner (sector 1 or OPTAM)")
    TC = "TC", _("TC — teleconsultation (other cases)")


class RuleCode(models.TextChoices):
    """The rules of the pathway, the exceptions and the cap; the order of ``eligibility``."""

    TREATING_DOCTOR = "treating_doctor", _("the patient's médecin traitant")
    PRIOR_VISIT = "prior_visit", _("an in-person visit within the months set")
    EMERGENCY = "emergency", _("emergency")
    UNDER_AGE = "under_age", _("patient under the age set")
    DIRECT_ACCESS = "direct_access", _("direct-access specialty")
    NO_TREATING_DOCTOR = "no_treating_doctor", _("no available médecin traitant")
    EHPAD = "ehpad", _("EHPAD resident")
    UNDERSERVED_ZONE = "underserved_zone", _("patient living in an under-served zone (ZIP)")
    SAS_REFERRAL = "sas_referral", _("referred by the SAS regulator")
    CAP = "cap", _("yearly cap of remote acts (percent)")
    CAP_PSYCHIATRY = "cap_psychiatry", _("yearly cap of remote acts in psychiatry (percent)")


def valid_on(day: dt.date) -> Q:
    """Rows in force on ``day``: from their date, until their end (inclusive) if any."""
    return Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gte=day))


class Tariff(models.Model):
    """What an act is paid, from a date: the in-person tariff (STANDARDS.md)."""

    code = models.CharField(_("act"), max_length=5, choices=BillingCode.choices)
    amount = models.DecimalField(_("amount (EUR)"), max_digits=7, decimal_places=2)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        ordering = ["code", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="acts_tariff_once_per_date")
        ]
        verbose_name = _("teleconsultation tariff")
        verbose_name_plural = _("teleconsultation tariffs")

    def __str__(self) -> str:
        return f"{self.code} {self.amount} € ({self.valid_from:%d/%m/%Y})"


class Rule(models.Model):
    """A rule of the pathway in force from a date; switched off by a row with ``active`` false."""

    code = models.CharField(_("rule"), max_length=20, choices=RuleCode.choices)
    active = models.BooleanField(_("in force"), default=True)
    # Months for the prior visit, age for minors, percent for the caps; none for the others.
    parameter = models.PositiveSmallIntegerField(_("parameter"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        ordering = ["code", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="acts_rule_once_per_date")
        ]
        verbose_name = _("teleconsultation billing rule")
        verbose_name_plural = _("teleconsultation billing rules")

    def __str__(self) -> str:
        value = "" if self.parameter is None else f" = {self.parameter}"
        return f"{self.get_code_display()}{value} ({self.valid_from:%d/%m/%Y})"


class DirectAccessSpecialty(models.Model):
    """A specialty the patient may see without the médecin traitant (ages bound it, if set)."""

    specialty = models.CharField(_("specialty"), max_length=5, choices=Specialty.choices)
    min_age = models.PositiveSmallIntegerField(_("from the age of"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("up to the age of"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        ordering = ["specialty", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["specialty", "valid_from"], name="acts_direct_access_once_per_date"
            )
        ]
        verbose_name = _("direct-access specialty")
        verbose_name_plural = _("direct-access specialties")

    def __str__(self) -> str:
        return f"{self.get_specialty_display()} ({self.valid_from:%d/%m/%Y})"


class UnderservedCommune(models.Model):
    """A commune of an under-served zone (ZIP, by the ARS's decision), by INSEE code."""

    insee_code = models.CharField(_("INSEE code"), max_length=5)
    name = models.CharField(_("name"), max_length=100, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        ordering = ["insee_code", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["insee_code", "valid_from"], name="acts_underserved_once_per_date"
            )
        ]
        verbose_name = _("under-served commune (ZIP)")
        verbose_name_plural = _("under-served communes (ZIP)")

    def __str__(self) -> str:
        return f"{self.insee_code} {self.name}"


class Sector(models.IntegerChoices):
    ONE = 1, _("sector 1")
    TWO = 2, _("sector 2")
    THREE = 3, _("not contracted (sector 3)")


class Convention(models.Model):
    """A doctor's conventional sector and OPTAM: what decides TCG or TC (data, in the admin)."""

    professional = models.OneToOneField(
        "directory.Professional", on_delete=models.CASCADE, related_name="convention"
    )
    sector = models.PositiveSmallIntegerField(_("sector"), choices=Sector.choices)
    optam = models.BooleanField(_("OPTAM signed"), default=False)

    class Meta:
        verbose_name = _("doctor's convention")
        verbose_name_plural = _("doctors' conventions")

    def __str__(self) -> str:
        return f"{self.professional} — {self.get_sector_display()}"


# --- The report, written once, and the act recorded at its closing ----------------------


class Orientation(models.TextChoices):
    NONE = "none", _("no further care needed")
    TREATING_DOCTOR = "treating_doctor", _("follow-up by the médecin traitant")
    IN_PERSON = "in_person", _("an in-person consultation")
    SPECIALIST = "specialist", _("a specialist")
    EMERGENCY = "emergency", _("the emergency department")
    HOSPITAL = "hospital", _("a hospital stay")
    TELEMONITORING = "telemonitoring", _("telemonitoring")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("being written")
    CLOSED = "closed", _("closed")


class Report(models.Model):
    """The doctor's report of a teleconsultation: written once, during or after the call.

    Closed once (``actions.close``): its PDF and the prescription's are filed
    in the record (``document``, ``prescription``) and sent; ``problem`` says
    what could not be filed or sent (a refused receiver), never undoing it.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    consultation = models.OneToOneField(
        "teleconsult.Consultation", on_delete=models.PROTECT, related_name="report"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason for the consultation"), blank=True)
    observations = models.TextField(_("observations"), blank=True)
    conclusion = models.TextField(_("conclusion"), blank=True)
    prescriptions = models.TextField(_("prescriptions"), blank=True)
    follow_up = models.TextField(_("follow-up"), blank=True)
    orientation = models.CharField(
        _("orientation"), max_length=20, choices=Orientation.choices, blank=True
    )
    status = models.CharField(
        max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    document = models.ForeignKey(
        "records.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prescription = models.ForeignKey(
        "records.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    problem = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("teleconsultation report")
        verbose_name_plural = _("teleconsultation reports")

    def __str__(self) -> str:
        return f"{self.uuid} ({self.status})"

    @property
    def is_closed(self) -> bool:
        return self.status == ReportStatus.CLOSED


class RecordedAct(models.Model):
    """The act as the record must keep it (CSP R.6316-4), written once at the report's closing.

    A copy, not a link: who took part, the times, the modality, the billing
    decided then and the technical incidents stay as they were at the act.
    """

    consultation = models.OneToOneField(
        "teleconsult.Consultation", on_delete=models.PROTECT, related_name="recorded_act"
    )
    report = models.OneToOneField(Report, on_delete=models.PROTECT, related_name="act")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="teleconsultation_acts"
    )
    doctor = models.ForeignKey(
        "directory.Professional", on_delete=models.PROTECT, related_name="teleconsultation_acts"
    )
    day = models.DateField(_("date"))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    modality = models.CharField(_("modality"), max_length=20)
    # [{"name": ..., "role": ..., "rpps": ...}] as they were at the act.
    participants = models.JSONField(default=list)
    billable = models.BooleanField(_("billable"))
    billing_code = models.CharField(_("act"), max_length=5, blank=True)
    tariff = models.DecimalField(_("amount (EUR)"), max_digits=7, decimal_places=2, null=True)
    rule = models.CharField(_("rule"), max_length=20)
    cap_share = models.DecimalField(max_digits=5, decimal_places=1)
    over_cap = models.BooleanField(default=False)
    # [{"kind": ..., "label": ..., "at": iso, "ended_at": iso | None}]
    incidents = models.JSONField(default=list)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day", "-pk"]
        indexes = [models.Index(fields=["doctor", "day"], name="acts_recorded_doctor_day")]
        verbose_name = _("recorded teleconsultation act")
        verbose_name_plural = _("recorded teleconsultation acts")

    def __str__(self) -> str:
        return f"{self.day} {self.billing_code}"
