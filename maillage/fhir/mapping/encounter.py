"""A teleconsultation to FHIR Encounter (STANDARDS.md: Appointment + Encounter class VR).

- ``id`` the act's id; ``status`` planned, arrived (the patient waits),
  in-progress, finished, cancelled;
- ``class`` ``v3-ActCode#VR`` (virtual): every act here is remote;
  ``serviceType`` our code ``teleconsultation``;
- ``subject`` the patient; ``participant`` the doctor (``PPRF``, a
  Practitioner) and each other participant admitted or invited: a
  professional of the directory as a Practitioner, a guest by name only
  (``display``; no RelatedPerson is served), typed ``PART`` or, for an
  interpreter, ``TRANS``; each with the period they were in the room;
- ``period`` from the start (first admission) to the end; ``appointment``
  the agenda's Appointment it was booked as; ``reasonCode`` its reason as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from fhir.resources.R4B.encounter import Encounter

from maillage.fhir.mapping.common import coding, meta, reference
from maillage.fhir.result import Json
from maillage.fhir.systems import MAILLAGE_FHIR
from maillage.fhir.validation import emit
from maillage.teleconsult.models import FHIR_STATUS, ParticipantRole

if TYPE_CHECKING:
    from maillage.teleconsult.models import Consultation, Participant

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
SERVICE_SYSTEM = f"{MAILLAGE_FHIR}/CodeSystem/service"
TELECONSULTATION_CODE = "teleconsultation"
PARTICIPATION_OF = {
    ParticipantRole.DOCTOR: ("PPRF", "primary performer"),
    ParticipantRole.INTERPRETER: ("TRANS", "Translator"),
}


def _period(start: object, end: object) -> Json | None:
    period: Json = {}
    if start is not None:
        period["start"] = start.isoformat()  # type: ignore[attr-defined]
    if end is not None:
        period["end"] = end.isoformat()  # type: ignore[attr-defined]
    return period or None


def _participant(place: Participant, practitioner_id: object | None) -> Json:
    code, display = PARTICIPATION_OF.get(ParticipantRole(place.role), ("PART", "Participation"))
    entry: Json = {"type": [{"coding": [coding(PARTICIPATION, code, display)]}]}
    if practitioner_id is not None:
        entry["individual"] = reference("Practitioner", practitioner_id, place.display_name)
    else:
        entry["individual"] = {"display": f"{place.display_name} ({place.get_role_display()})"}
    period = _period(place.admitted_at, place.left_at if place.admitted_at else None)
    if period:
        entry["period"] = period
    return entry


def encounter(
    consultation: Consultation,
    places: Sequence[Participant],
    practitioners: dict[int, object],
) -> Json:
    """The Encounter; ``places`` are the act's participants but the patient (she is the subject),
    ``practitioners`` the Practitioner id of each user who has a directory entry."""
    changed = consultation.ended_at or consultation.started_at or consultation.created_at
    data: Json = {
        "resourceType": "Encounter",
        "id": str(consultation.uuid),
        "meta": meta(changed),
        "status": FHIR_STATUS[consultation.status],  # type: ignore[index]
        "class": coding(ACT_CODE, "VR", "virtual"),
        "serviceType": {
            "coding": [coding(SERVICE_SYSTEM, TELECONSULTATION_CODE, "Téléconsultation")]
        },
        "subject": reference("Patient", consultation.patient.uuid),
        "participant": [
            _participant(p, practitioners.get(p.user_id) if p.user_id else None) for p in places
        ],
    }
    period = _period(consultation.started_at, consultation.ended_at)
    if period:
        data["period"] = period
    if consultation.appointment_id is not None and consultation.appointment is not None:
        data["appointment"] = [reference("Appointment", consultation.appointment.uuid)]
    if consultation.reason:
        data["reasonCode"] = [{"text": consultation.reason}]
    return emit(Encounter, data)
