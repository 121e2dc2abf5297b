"""Agendas to FHIR: Schedule (an agenda), Slot (a bookable time), Appointment (a booking).

- the modality is said twice, for clients of either habit: ``serviceType``
  carries our code (``…/CodeSystem/consultation-modality``: ``in-person``,
  ``remote``; a slot offered both ways has both), and an Appointment's
  ``appointmentType`` (and a Slot's when it is one or the other) the
  v3 ActCode of the encounter it will be: ``VR`` (virtual) or ``AMB``;
- ``Schedule.actor``: the professional (Practitioner) and the place
  (Location, the structure) when there is one; ``planningHorizon`` the
  days slots are generated for;
- ``Slot.status``: free, busy, busy-unavailable (an absence);
- ``Appointment.status``: booked, fulfilled, cancelled, noshow; the reason is
  ``reasonCode.text``; ``participant``: the patient, the Practitioner and
  the Location, each ``accepted``; ``slot`` the slot it holds.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.schedule import Schedule as FhirSchedule
from fhir.resources.R4B.slot import Slot as FhirSlot

from maillage.agenda.models import Appointment, Modality, Schedule, Slot, SlotModality
from maillage.fhir.mapping.common import coding, meta, reference
from maillage.fhir.mapping.directory import specialty_concept
from maillage.fhir.result import Json
from maillage.fhir.systems import ACT_CODE_SYSTEM, MAILLAGE_FHIR
from maillage.fhir.validation import emit

MODALITY_SYSTEM = f"{MAILLAGE_FHIR}/CodeSystem/consultation-modality"
# Ours <-> the code of our system.
MODALITY_CODE: dict[str, str] = {Modality.IN_PERSON: "in-person", Modality.REMOTE: "remote"}
MODALITY_OF_CODE = {code: ours for ours, code in MODALITY_CODE.items()}
# Ours <-> v3 ActCode (the encounter class it will be).
ACT_CODE: dict[str, str] = {Modality.IN_PERSON: "AMB", Modality.REMOTE: "VR"}
MODALITY_OF_ACT = {code: ours for ours, code in ACT_CODE.items()}
ACT_DISPLAY = {"AMB": "ambulatory", "VR": "virtual"}


def modalities_of(slot_modality: str) -> tuple[str, ...]:
    if slot_modality == SlotModality.BOTH:
        return (Modality.IN_PERSON, Modality.REMOTE)
    return (slot_modality,)


def _service_types(modalities: tuple[str, ...]) -> list[Json]:
    return [
        {"coding": [coding(MODALITY_SYSTEM, MODALITY_CODE[m], str(Modality(m).label))]}
        for m in modalities
    ]


def _appointment_type(modality: str) -> Json:
    code = ACT_CODE[modality]
    return {"coding": [coding(ACT_CODE_SYSTEM, code, ACT_DISPLAY[code])]}


def schedule_resource(schedule: Schedule) -> Json:
    professional = schedule.professional
    actors = [reference("Practitioner", professional.uuid, professional.display_name)]
    if schedule.structure is not None:
        actors.append(reference("Location", schedule.structure.uuid, schedule.structure.name))
    today = timezone.localdate()
    zone = timezone.get_default_timezone()
    start = dt.datetime.combine(today, dt.time(), tzinfo=zone)
    data: Json = {
        "resourceType": "Schedule",
        "id": str(schedule.uuid),
        "meta": meta(schedule.updated_at),
        "active": schedule.active,
        "serviceType": _service_types((Modality.IN_PERSON, Modality.REMOTE))
        if schedule.structure is not None
        else _service_types((Modality.REMOTE,)),
        "actor": actors,
        "planningHorizon": {
            "start": start.isoformat(),
            "end": (start + dt.timedelta(days=schedule.horizon_days + 1)).isoformat(),
        },
    }
    if professional.specialty:
        data["specialty"] = [specialty_concept(professional.specialty)]
    if schedule.comment:
        data["comment"] = schedule.comment
    return emit(FhirSchedule, data)


def slot_resource(slot: Slot) -> Json:
    modalities = modalities_of(slot.modality)
    data: Json = {
        "resourceType": "Slot",
        "id": str(slot.uuid),
        "meta": meta(slot.updated_at),
        "schedule": reference("Schedule", slot.schedule.uuid),
        "status": slot.status,
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "serviceType": _service_types(modalities),
    }
    if len(modalities) == 1:
        data["appointmentType"] = _appointment_type(modalities[0])
    return emit(FhirSlot, data)


def appointment_resource(appointment: Appointment) -> Json:
    patient = appointment.patient
    professional = appointment.professional
    participants: list[Json] = [
        {
            "actor": reference("Patient", patient.uuid, patient.display_name),
            "required": "required",
            "status": "accepted",
        },
        {
            "actor": reference("Practitioner", professional.uuid, professional.display_name),
            "required": "required",
            "status": "accepted",
        },
    ]
    if appointment.structure is not None and appointment.modality == Modality.IN_PERSON:
        participants.append(
            {
                "actor": reference(
                    "Location", appointment.structure.uuid, appointment.structure.name
                ),
                "required": "required",
                "status": "accepted",
            }
        )
    data: Json = {
        "resourceType": "Appointment",
        "id": str(appointment.uuid),
        "meta": meta(appointment.updated_at, appointment.version),
        "status": appointment.status,
        "serviceType": _service_types((appointment.modality,)),
        "appointmentType": _appointment_type(appointment.modality),
        "reasonCode": [{"text": appointment.reason}],
        "start": appointment.start.isoformat(),
        "end": appointment.end.isoformat(),
        "minutesDuration": int((appointment.end - appointment.start).total_seconds() // 60),
        "created": appointment.booked_at.isoformat(),
        "participant": participants,
    }
    if appointment.slot is not None:
        data["slot"] = [reference("Slot", appointment.slot.uuid)]
    if appointment.cancel_reason:
        data["cancelationReason"] = {"text": appointment.cancel_reason}
    return emit(FhirAppointment, data)
