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


def test_fhirpy_cancels_and_moves_and_a_stranger_cannot(
    live_url: str, personas: Any, agendas: Any
) -> None:
    from maillage.agenda import actions
    from maillage.agenda.models import AppointmentStatus, Modality

    first, second, third = Slot.objects.filter(
        schedule=agendas.gp, status=SlotStatus.FREE
    ).order_by("start")[:3]
    booking = actions.Booking(first.uuid, personas.patient.uuid, Modality.REMOTE, "Toux")
    appointment = actions.book(personas.patient_user, booking)
    doctor = client(live_url, personas.treating_doctor.user)

    # A stranger (another house's secretary) tries both ways: nothing of it exists for her.
    stranger = client(live_url, personas.stranger_coordinator)
    with pytest.raises(ResourceNotFound):
        stranger.patch("Appointment", str(appointment.uuid), status="cancelled")
    with pytest.raises(ResourceNotFound):
        stranger.resource(
            "Appointment",
            id=str(appointment.uuid),
            status="cancelled",
            participant=[
                {"actor": {"reference": f"Patient/{personas.patient.uuid}"}, "status": "accepted"}
            ],
        ).save()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED

    # The doctor moves it (fhirpy's patch is a merge patch): fhirpy then holds the new one.
    moved = doctor.reference("Appointment", str(appointment.uuid)).to_resource()
    moved["slot"] = [{"reference": f"Slot/{second.uuid}"}]
    moved.save(fields=["slot"])
    assert moved.id != str(appointment.uuid)
    assert moved["slot"][0]["reference"] == f"Slot/{second.uuid}"
    assert Appointment.objects.get(uuid=moved.id).moved_from == appointment

    # A slot that is not free: a conflict in an OperationOutcome.
    actions.book(
        personas.patient_user,
        actions.Booking(third.uuid, personas.patient.uuid, Modality.REMOTE, "Autre"),
    )
    with pytest.raises(OperationOutcome) as taken:
        doctor.patch("Appointment", moved.id, slot=[{"reference": f"Slot/{third.uuid}"}])
    assert "conflict" in str(taken.value)

    # The patient cancels the new one by PUT, as read, with a reason.
    mine = client(live_url, personas.patient_user)
    current = mine.reference("Appointment", moved.id).to_resource()
    current["status"] = "cancelled"
    current["cancelationReason"] = {"text": "Je vais mieux"}
    current.save()
    assert current["status"] == "cancelled"
    assert Slot.objects.get(pk=second.pk).status == SlotStatus.FREE
    assert Appointment.objects.get(uuid=moved.id).cancel_reason == "Je vais mieux"
