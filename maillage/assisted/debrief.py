"""The debrief after an assisted act: what the doctor concluded, whom to see next, the summary.

Plain data for the page and the printed summary, from what ``policy.orientation``
opened for a debrief seat. The professionals to see next come from the
agenda's own search of first free slots (``agenda.queries.first_free``): by
specialty, in person near the patient's commune (km by the directory's
distance provider) or remote, the soonest first. The report's orientation
presets the search (a specialist, an in-person consultation, the médecin
traitant); the assistant may change it, and the patient chooses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from maillage.acts.models import Orientation, Report
from maillage.agenda.models import Modality
from maillage.agenda.queries import FreeHit, FreeSlotQuery, first_free
from maillage.assisted.models import Assistance, OrientationProposal
from maillage.directory.terminology import Specialty
from maillage.policy.teleconsult import Seat

if TYPE_CHECKING:
    from maillage.directory.models import Professional, Structure

# How many professionals the page offers at once.
OFFERED = 8
DEFAULT_RADIUS_KM = 50.0

# What the report's orientation presets: (specialty, modality). A specialist's
# specialty is the doctor's to say in the report's text: the assistant picks it.
PRESETS: dict[str, tuple[str, str]] = {
    Orientation.SPECIALIST: ("", Modality.IN_PERSON),
    Orientation.IN_PERSON: (Specialty.GENERAL_PRACTICE, Modality.IN_PERSON),
    Orientation.TREATING_DOCTOR: (Specialty.GENERAL_PRACTICE, Modality.IN_PERSON),
}


@dataclass(frozen=True)
class Search:
    specialty: str = ""
    modality: str = Modality.IN_PERSON
    radius_km: float | None = DEFAULT_RADIUS_KM


def preset(report: Report | None) -> Search | None:
    """The search the report's orientation suggests, or None when it suggests none."""
    if report is None or not report.is_closed:
        return None
    found = PRESETS.get(report.orientation)
    if found is None:
        return None
    return Search(specialty=found[0], modality=found[1])


@dataclass(frozen=True)
class Offer:
    """One professional to propose: his agenda's first free slots and his distance."""

    hit: FreeHit
    treating_doctor: bool

    @property
    def professional(self) -> Professional:
        return self.hit.schedule.professional

    @property
    def structure(self) -> Structure | None:
        return self.hit.schedule.structure


def offers(seat: Seat, search: Search) -> list[Offer]:
    """The professionals to see next, the patient's médecin traitant first when he is among them."""
    radius = search.radius_km if search.modality == Modality.IN_PERSON else None
    hits = first_free(
        FreeSlotQuery(
            modality=search.modality,
            specialty=search.specialty,
            origin=seat.patient.commune,
            radius_km=radius if seat.patient.commune is not None else None,
        ),
        for_patient=False,
        limit=OFFERED,
    )
    treating = seat.patient.treating_doctor_id
    found = [Offer(h, h.schedule.professional_id == treating) for h in hits]
    return sorted(found, key=lambda o: not o.treating_doctor)


@dataclass(frozen=True)
class Contact:
    label: str
    name: str
    lines: tuple[str, ...] = ()


def _place_lines(structure: Structure | None) -> tuple[str, ...]:
    if structure is None:
        return ()
    town = " ".join(p for p in (structure.postal_code, structure.commune.name) if p)
    return tuple(p for p in (structure.address_line, town, structure.phone) if p)


def contacts(seat: Seat, proposals: list[OrientationProposal]) -> list[Contact]:
    """Practical contacts for the patient: her médecin traitant, where she was seen, where to go."""
    out: list[Contact] = []
    treating = seat.patient.treating_doctor
    if treating is not None:
        place = treating.structures.select_related("commune").order_by("pk").first()
        lines = _place_lines(place)
        if treating.phone and treating.phone not in lines:
            lines = (*lines, treating.phone)
        out.append(Contact(_("Your médecin traitant"), treating.display_name, lines))
    assistance = (
        Assistance.objects.filter(participant__consultation_id=seat.consultation.pk)
        .select_related("place__commune")
        .order_by("pk")
        .first()
    )
    if assistance is not None and assistance.place is not None:
        out.append(
            Contact(
                _("Where you were seen today"),
                assistance.place.name,
                _place_lines(assistance.place),
            )
        )
    for proposal in proposals:
        if proposal.appointment is not None:
            out.append(
                Contact(
                    _("Your appointment"),
                    proposal.professional.display_name,
                    _place_lines(proposal.appointment.structure),
                )
            )
    out.append(Contact(_("In an emergency"), _("SAMU: call 15 (or 112)")))
    return out


@dataclass
class Debrief:
    """What the debrief page and the summary show of one act."""

    seat: Seat
    report: Report | None
    proposals: list[OrientationProposal] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self.report is not None and self.report.is_closed

    def context(self) -> dict[str, Any]:
        consultation = self.seat.consultation
        return {
            "seat": self.seat,
            "consultation": consultation,
            "patient": consultation.patient,
            "doctor": consultation.doctor,
            "report": self.report if self.closed else None,
            "closed": self.closed,
            "proposals": self.proposals,
            "contacts": contacts(self.seat, self.proposals),
        }


def summary_html(debrief: Debrief) -> str:
    """The summary the patient takes home, as the HTML its PDF is made of, in French."""
    with translation.override("fr"):
        return render_to_string(
            "assisted/debrief_summary_pdf.html",
            {**debrief.context(), "printed_at": timezone.now()},
        )


def render_summary(debrief: Debrief) -> bytes:
    """The summary as a PDF (WeasyPrint)."""
    import weasyprint  # type: ignore[import-untyped]

    return bytes(weasyprint.HTML(string=summary_html(debrief)).write_pdf())
