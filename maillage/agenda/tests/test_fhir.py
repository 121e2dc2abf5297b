"""Schedule, Slot and Appointment through the FHIR API, by fhirpy unchanged, on the real server.

The patient finds a free remote slot (Slot search by schedule, start, status
and service type) and books it by creating an Appointment: the slot is then
busy, and a second booking of it is a 409. Bad input is an OperationOutcome;
a stranger reads nothing of the appointment.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome, ResourceNotFound

from maillage.accounts.actions import create_api_token
from maillage.agenda.models import Appointment, Slot, SlotStatus
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.mapping.agenda import MODALITY_SYSTEM

pytestmark = pytest.mark.skipif(
    connection.vendor == "postgresql",
    reason="the API over HTTP proves nothing more on PostgreSQL (the booking race runs on both)",
)


def client(live_url: str, user: Any) -> SyncFHIRClient:
    token = create_api_token(user, label="fhirpy")
    return SyncFHIRClient(f"{live_url}/fhir/r4", authorization=f"Bearer {token}")


def test_the_patient_books_a_remote_slot_through_fhirpy(
    live_url: str, personas: Any, agendas: Any
) -> None:
    patient = client(live_url, personas.patient_user)
    schedule = patient.reference("Schedule", str(agendas.gp.uuid)).to_resource()
    assert schedule["actor"][0]["reference"] == f"Practitioner/{personas.treating_doctor.uuid}"
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    free = (
        patient.resources("Slot")
        .search(
            schedule=f"Schedule/{agendas.gp.uuid}",
            status="free",
            start=f"ge{tomorrow}",
            **{"service-type": f"{MODALITY_SYSTEM}|remote"},
        )
        .sort("start")
        .limit(5)
        .fetch()
    )
    assert free and all(s["status"] == "free" for s in free)
    chosen = free[0]
    assert chosen["start"] >= tomorrow

    booked = patient.resource(
        "Appointment",
        status="booked",
        slot=[{"reference": f"Slot/{chosen.id}"}],
        participant=[
            {"actor": {"reference": f"Patient/{personas.patient.uuid}"}, "status": "accepted"}
        ],
        appointmentType={
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "VR"}]
        },
        reasonCode=[{"text": "Renouvellement d'ordonnance"}],
    )
    booked.save()
    assert booked["status"] == "booked"
    assert booked["serviceType"][0]["coding"][0]["code"] == "remote"
    assert Slot.objects.get(uuid=chosen.id).status == SlotStatus.BUSY
    assert patient.reference("Slot", chosen.id).to_resource()["status"] == "busy"
    stored = Appointment.objects.get(uuid=booked.id)
    assert stored.patient == personas.patient and stored.booked_by == personas.patient_user

    # The same slot again: a conflict, said in an OperationOutcome.
    again = patient.resource(
        "Appointment",
        status="booked",
        slot=[{"reference": f"Slot/{chosen.id}"}],
        participant=[
            {"actor": {"reference": f"Patient/{personas.patient.uuid}"}, "status": "accepted"}
        ],
        reasonCode=[{"text": "Encore"}],
    )
    with pytest.raises(OperationOutcome) as conflict:
        again.save()
    assert "conflict" in str(conflict.value)

    # Her appointments; the doctor's too; a stranger's read is a 404, audited.
    mine = patient.resources("Appointment").search(patient=f"Patient/{personas.patient.uuid}")
    assert [a.id for a in mine.fetch_all()] == [booked.id]
    doctor = client(live_url, personas.treating_doctor.user)
    assert doctor.reference("Appointment", booked.id).to_resource()["status"] == "booked"
    stranger = client(live_url, personas.cardiologist.user)
    with pytest.raises(ResourceNotFound):
        stranger.reference("Appointment", booked.id).to_resource()
    assert AuditEntry.objects.filter(
        action=Action.APPOINTMENT_READ, actor=personas.cardiologist.user, outcome=Outcome.DENIED
    ).exists()

    # Bad input: a date that is not one, a status that does not exist, no reason.
    with pytest.raises(OperationOutcome):
        patient.resources("Slot").search(start="demain").fetch()
    with pytest.raises(OperationOutcome):
        patient.resources("Slot").search(status="libre").fetch()
    other = free[1]
    with pytest.raises(OperationOutcome) as no_reason:
        patient.resource(
            "Appointment",
            status="booked",
            slot=[{"reference": f"Slot/{other.id}"}],
            participant=[
                {"actor": {"reference": f"Patient/{personas.patient.uuid}"}, "status": "accepted"}
            ],
            serviceType=[{"coding": [{"system": MODALITY_SYSTEM, "code": "remote"}]}],
        ).save()
    assert "Appointment.reasonCode" in str(no_reason.value)
    assert Slot.objects.get(uuid=other.id).status == SlotStatus.FREE
