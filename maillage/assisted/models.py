"""Assisted teleconsultation: who assists the patient, where, and what the doctor asked for.

An ``Assistance`` completes the ``teleconsult.Participant`` of the professional
beside the patient (role ``assistant``) with the act code she bills (nurse
TLS, TLL or TLD; a pharmacist's assistance) and the place of the act (a
teleconsultation point, a pharmacy, an MSP, an EHPAD or a mobile unit of the
directory, whose equipment the doctor sees). A ``MeasurementRequest`` is one
button the doctor pressed ("Prenez la tension"), kept with the act.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from maillage.directory.models import StructureKind
from maillage.directory.terminology import Profession


class ActCode(models.TextChoices):
    # NGAP codes of the nurse's assistance (STANDARDS.md).
    TLS = "TLS", _("TLS: nurse, during a planned visit")
    TLL = "TLL", _("TLL: nurse, at a dedicated site")
    TLD = "TLD", _("TLD: nurse, home visit organised for it")
    PHARMACIST = "pharmacist", _("pharmacist, in the pharmacy's closed room")


# Which profession bills which code.
CODES_OF_PROFESSION: dict[str, frozenset[str]] = {
    Profession.NURSE: frozenset({ActCode.TLS, ActCode.TLL, ActCode.TLD}),
    Profession.PHARMACIST: frozenset({ActCode.PHARMACIST}),
}

# The places an assisted act is held at (the directory's kinds).
PLACE_KINDS = frozenset(
    {
        StructureKind.TELECONSULTATION_POINT,
        StructureKind.PHARMACY,
        StructureKind.MSP,
        StructureKind.EHPAD,
        StructureKind.MOBILE_UNIT,
    }
)


class Assistance(models.Model):
    """The assisting professional's place in an act: her act code and where she is."""

    participant = models.OneToOneField(
        "teleconsult.Participant", on_delete=models.CASCADE, related_name="assistance"
    )
    professional = models.ForeignKey(
        "directory.Professional",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    act_code = models.CharField(_("act code"), max_length=10, choices=ActCode.choices)
    place = models.ForeignKey(
        "directory.Structure",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("assistance")
        verbose_name_plural = _("assistances")

    def __str__(self) -> str:
        return f"{self.participant_id} {self.act_code}"


class MeasurementRequest(models.Model):
    """The doctor asked the assistant for a measurement (a button of the room)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    consultation = models.ForeignKey(
        "teleconsult.Consultation", on_delete=models.CASCADE, related_name="measurement_requests"
    )
    kind = models.CharField(_("measurement"), max_length=20)
    asked_by = models.ForeignKey(
        "teleconsult.Participant", on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField()

    class Meta:
        ordering = ["asked_at", "pk"]
        verbose_name = _("measurement request")
        verbose_name_plural = _("measurement requests")

    def __str__(self) -> str:
        return f"{self.kind} {self.asked_at:%H:%M}"


class Choice(models.TextChoices):
    PENDING = "pending", _("proposed, no answer yet")
    ACCEPTED = "accepted", _("accepted")
    REFUSED = "refused", _("refused")


class OrientationProposal(models.Model):
    """A professional of the territory the assistant proposed to the patient after the act.

    Proposed, never imposed: the patient's answer is recorded as hers
    (``choice``), by the assistant or the doctor who heard it
    (``recorded_by``, ``decided_at``). Accepted, the proposed slot is booked
    for her (``appointment``, through the agenda's actions and policy);
    refused, with the reason she gives if she gives one. One proposal per
    professional and act: proposing the same professional again while no
    answer is given changes the slot proposed.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    consultation = models.ForeignKey(
        "teleconsult.Consultation", on_delete=models.CASCADE, related_name="orientation_proposals"
    )
    professional = models.ForeignKey(
        "directory.Professional", on_delete=models.PROTECT, related_name="+"
    )
    # Where and when: the slot may be regenerated or taken; its time and place are kept.
    slot = models.ForeignKey(
        "agenda.Slot", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    structure = models.ForeignKey(
        "directory.Structure", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_start = models.DateTimeField(_("proposed slot"))
    modality = models.CharField(_("consultation"), max_length=10)
    distance_km = models.DecimalField(
        _("distance (km)"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    choice = models.CharField(
        _("patient's choice"), max_length=10, choices=Choice.choices, default=Choice.PENDING
    )
    reason = models.CharField(_("reason given"), max_length=300, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    appointment = models.OneToOneField(
        "agenda.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orientation_proposal",
    )

    class Meta:
        ordering = ["proposed_at", "pk"]
        verbose_name = _("orientation proposal")
        verbose_name_plural = _("orientation proposals")
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "professional"],
                condition=models.Q(choice="pending"),
                name="assisted_one_pending_proposal_per_professional",
            )
        ]

    def __str__(self) -> str:
        return f"{self.professional_id} {self.choice}"
