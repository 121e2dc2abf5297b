"""PUT and PATCH Appointment: cancel and move through the agenda's actions, under the policy.

Each call leaves one audit entry on the caller's account for the patient
(the action's write, or the opening when nothing is done); the other side
is told; a stranger's change is a 404 that leaves the booking as it was.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from maillage.agenda import actions
from maillage.agenda.models import Appointment, AppointmentStatus, Modality, Slot, SlotStatus
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import Api, fhir_json, issues
from maillage.fhir.tests.expertise_helpers import merge_patch, send
from maillage.tasks.models import OutgoingMail

pytestmark = pytest.mark.django_db


def _book(personas: Any, slot: Slot) -> Appointment:
    booking = actions.Booking(slot.uuid, personas.patient.uuid, Modality.REMOTE, "Toux")
    return actions.book(personas.patient_user, booking)


def _read(api: Api, appointment: Appointment, who: Any) -> dict[str, Any]:
    response = api.get(f"Appointment/{appointment.uuid}", who)
    assert response.status_code == 200, response.content
    return fhir_json(response)


def _entries(user: Any, personas: Any) -> list[tuple[str, str]]:
    rows = AuditEntry.objects.filter(actor=user, patient=personas.patient).order_by("seq")
    return [(e.action, e.outcome) for e in rows]


def _since(user: Any, personas: Any, before: int) -> list[tuple[str, str]]:
    return _entries(user, personas)[before:]


def test_the_patient_cancels_by_put_with_if_match(api: Api, personas: Any, agendas: Any) -> None:
    appointment = _book(personas, agendas.free(agendas.gp))
    resource = _read(api, appointment, personas.patient_user)
    resource["status"] = "cancelled"
    resource["cancelationReason"] = {"text": "Je vais mieux"}
    before = len(_entries(personas.patient_user, personas))
    OutgoingMail.objects.all().delete()

    response = send(
        api,
        "PUT",
        f"Appointment/{appointment.uuid}",
        resource,
        personas.patient_user,
        HTTP_IF_MATCH=f'W/"{resource["meta"]["versionId"]}"',
    )

    assert response.status_code == 200, response.content
    body = fhir_json(response)
    assert body["status"] == "cancelled"
    assert body["cancelationReason"]["text"] == "Je vais mieux"
    assert response["ETag"] == f'W/"{appointment.version + 1}"'
    assert "Warning" not in response
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancel_reason == "Je vais mieux"
    assert appointment.slot is not None and appointment.slot.status == SlotStatus.FREE
    # One entry for the call: the cancel's write (the read before it is part of it).
    assert _since(personas.patient_user, personas, before) == [
        (Action.APPOINTMENT_WRITE, Outcome.GRANTED)
    ]
    # The doctor is told, as when cancelling on the page.
    assert OutgoingMail.objects.filter(user=personas.treating_doctor.user).exists()


def test_the_doctor_moves_by_merge_patch_to_another_slot(
    api: Api, personas: Any, agendas: Any
) -> None:
    old_slot = agendas.free(agendas.gp)
    appointment = _book(personas, old_slot)
    new_slot = agendas.free(agendas.gp)
    doctor = personas.treating_doctor.user
    before = len(_entries(doctor, personas))
    OutgoingMail.objects.all().delete()

    response = merge_patch(
        api,
        f"Appointment/{appointment.uuid}",
        {"slot": [{"reference": f"Slot/{new_slot.uuid}"}]},
        doctor,
    )

    assert response.status_code == 200, response.content
    body = fhir_json(response)
    moved = Appointment.objects.get(moved_from=appointment)
    assert body["id"] == str(moved.uuid)
    assert body["slot"] == [{"reference": f"Slot/{new_slot.uuid}"}]
    assert dt.datetime.fromisoformat(body["start"]) == new_slot.start
    assert response["Content-Location"].endswith(f"/fhir/r4/Appointment/{moved.uuid}/_history/1")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert Slot.objects.get(pk=old_slot.pk).status == SlotStatus.FREE
    assert Slot.objects.get(pk=new_slot.pk).status == SlotStatus.BUSY
    assert _since(doctor, personas, before) == [(Action.APPOINTMENT_WRITE, Outcome.GRANTED)]
    # The patient is told of the move.
    assert OutgoingMail.objects.filter(user=personas.patient_user).exists()
    # The old one reads cancelled, by its old id.
    assert _read(api, appointment, doctor)["status"] == "cancelled"


def test_a_json_patch_cancels_with_a_coded_reason(api: Api, personas: Any, agendas: Any) -> None:
    appointment = _book(personas, agendas.free(agendas.gp))
    operations = [
        {"op": "replace", "path": "/status", "value": "cancelled"},
        {"op": "add", "path": "/cancelationReason", "value": {"coding": [{"display": "Grève"}]}},
    ]
    response = send(
        api,
        "PATCH",
        f"Appointment/{appointment.uuid}",
        operations,
        personas.coordinator,
        content_type="application/json-patch+json",
    )
    assert response.status_code == 200, response.content
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason) == ("cancelled", "Grève")
    assert appointment.cancelled_by == personas.coordinator


@pytest.mark.parametrize("who", ["cardiologist", "stranger_coordinator", "regulator"])
def test_someone_else_cannot_cancel_the_patients_appointment(
    api: Api, personas: Any, agendas: Any, who: str
) -> None:
    """The attacker: a doctor, a secretary of another house, a regulator without a case."""
    appointment = _book(personas, agendas.free(agendas.gp))
    attacker = getattr(personas, who)
    attacker = getattr(attacker, "user", attacker)
    path = f"Appointment/{appointment.uuid}"

    by_put = send(
        api,
        "PUT",
        path,
        {
            "resourceType": "Appointment",
            "id": str(appointment.uuid),
            "status": "cancelled",
            "participant": [
                {"actor": {"reference": f"Patient/{personas.patient.uuid}"}, "status": "accepted"}
            ],
        },
        attacker,
    )
    by_patch = merge_patch(api, path, {"status": "cancelled"}, attacker)

    for response in (by_put, by_patch):
        assert response.status_code in (403, 404), response.content
        assert issues(response)
        assert str(personas.patient.uuid) not in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.slot is not None and appointment.slot.status == SlotStatus.BUSY
    refused = AuditEntry.objects.filter(actor=attacker, outcome=Outcome.DENIED)
    assert refused.count() == 2
    assert not AuditEntry.objects.filter(
        actor=attacker, patient=personas.patient, outcome=Outcome.GRANTED
    ).exists()


def test_an_unknown_appointment_is_a_404(api: Api, personas: Any, agendas: Any) -> None:
    response = merge_patch(
        api,
        "Appointment/00000000-0000-4000-8000-000000000000",
        {"status": "cancelled"},
        personas.patient_user,
    )
    assert response.status_code == 404
    assert issues(response)[0]["code"] == "not-found"


def test_a_stale_if_match_is_a_412_and_changes_nothing(
    api: Api, personas: Any, agendas: Any
) -> None:
    appointment = _book(personas, agendas.free(agendas.gp))
    before = len(_entries(personas.patient_user, personas))
    response = send(
        api,
        "PATCH",
        f"Appointment/{appointment.uuid}",
        {"status": "cancelled"},
        personas.patient_user,
        content_type="application/merge-patch+json",
        HTTP_IF_MATCH='W/"7"',
    )
    assert response.status_code == 412
    assert issues(response)[0]["code"] == "conflict"
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    # The call's one entry: the opening (nothing was changed).
    assert _since(personas.patient_user, personas, before) == [
        (Action.APPOINTMENT_READ, Outcome.GRANTED)
    ]


def _patched(api: Api, appointment: Appointment, who: Any, changes: dict[str, Any]) -> Any:
    return merge_patch(api, f"Appointment/{appointment.uuid}", changes, who)


def test_a_slot_unknown_or_taken_is_refused_in_an_outcome(
    api: Api, personas: Any, agendas: Any
) -> None:
    appointment = _book(personas, agendas.free(agendas.gp))
    taken = agendas.free(agendas.gp)
    other = actions.book(
        personas.treating_doctor.user,
        actions.Booking(taken.uuid, personas.patient.uuid, Modality.REMOTE, "Autre"),
    )
    doctor = personas.treating_doctor.user

    unknown = _patched(
        api,
        appointment,
        doctor,
        {"slot": [{"reference": "Slot/11111111-1111-4111-8111-111111111111"}]},
    )
    not_uuid = _patched(api, appointment, doctor, {"slot": [{"reference": "Slot/demain"}]})
    busy = _patched(api, appointment, doctor, {"slot": [{"reference": f"Slot/{taken.uuid}"}]})
    elsewhere = _patched(
        api,
        appointment,
        doctor,
        {"slot": [{"reference": f"Slot/{agendas.free(agendas.cardiology).uuid}"}]},
    )

    for response in (unknown, not_uuid):
        assert response.status_code == 422, response.content
        assert issues(response)[0]["expression"] == ["Appointment.slot"]
    assert busy.status_code == 409
    assert issues(busy)[0]["code"] == "conflict"
    # Another professional's agenda: the action refuses, in the doctor's language.
    assert elsewhere.status_code == 422
    assert "même professionnel" in issues(elsewhere)[0]["diagnostics"]
    appointment.refresh_from_db()
    other.refresh_from_db()
    assert appointment.status == other.status == AppointmentStatus.BOOKED
    assert not Appointment.objects.filter(moved_from=appointment).exists()


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"reasonCode": [{"text": "Autre chose"}]}, "Appointment.reasonCode"),
        (
            {"participant": [{"actor": {"reference": "Patient/x"}, "status": "accepted"}]},
            "Appointment.participant",
        ),
        (
            {"serviceType": [{"coding": [{"code": "in-person"}]}]},
            "Appointment.serviceType",
        ),
        ({"start": "2031-01-01T10:00:00+01:00"}, "Appointment.start"),
        ({"status": "fulfilled"}, "Appointment.status"),
        ({"status": "noshow"}, "Appointment.status"),
    ],
)
def test_fixed_elements_and_other_statuses_are_a_422(
    api: Api, personas: Any, agendas: Any, changes: dict[str, Any], path: str
) -> None:
    appointment = _book(personas, agendas.free(agendas.gp))
    before = len(_entries(personas.patient_user, personas))
    response = _patched(api, appointment, personas.patient_user, changes)
    assert response.status_code == 422, response.content
    found = issues(response)[0]
    assert (found["code"], found["expression"]) == ("business-rule", [path])
    assert found["diagnostics"]  # a sentence the client can show
    appointment.refresh_from_db()
    assert (appointment.status, appointment.reason) == (AppointmentStatus.BOOKED, "Toux")
    assert _since(personas.patient_user, personas, before) == [
        (Action.APPOINTMENT_READ, Outcome.GRANTED)
    ]


def test_cancelling_twice_is_a_no_change_and_booking_again_a_422(
    api: Api, personas: Any, agendas: Any
) -> None:
    appointment = _book(personas, agendas.free(agendas.gp))
    first = _patched(api, appointment, personas.patient_user, {"status": "cancelled"})
    assert first.status_code == 200
    again = _patched(api, appointment, personas.patient_user, {"status": "cancelled"})
    assert again.status_code == 200
    assert fhir_json(again)["meta"]["versionId"] == fhir_json(first)["meta"]["versionId"]
    revived = _patched(api, appointment, personas.patient_user, {"status": "booked"})
    assert revived.status_code == 422
    elsewhere = Slot.objects.filter(schedule=agendas.gp, status=SlotStatus.FREE).exclude(
        pk=appointment.slot.pk if appointment.slot else 0
    )[0]
    moved = _patched(
        api, appointment, personas.patient_user, {"slot": [{"reference": f"Slot/{elsewhere.uuid}"}]}
    )
    assert moved.status_code == 409


def test_bad_bodies_are_outcomes(api: Api, personas: Any, agendas: Any) -> None:
    appointment = _book(personas, agendas.free(agendas.gp))
    path = f"Appointment/{appointment.uuid}"
    who = personas.patient_user
    wrong_id = send(
        api,
        "PUT",
        path,
        {
            "resourceType": "Appointment",
            "id": "autre",
            "status": "cancelled",
            "participant": [{"status": "accepted"}],
        },
        who,
    )
    not_json = send(api, "PUT", path, "{", who)
    not_a_patch = send(
        api, "PATCH", path, json.dumps([1, 2]), who, content_type="application/json-patch+json"
    )
    two_slots = _patched(
        api, appointment, who, {"slot": [{"reference": "Slot/a"}, {"reference": "Slot/b"}]}
    )
    for response, status in (
        (wrong_id, 400),
        (not_json, 400),
        (not_a_patch, 400),
        (two_slots, 422),
    ):
        assert response.status_code == status, response.content
        assert issues(response)[0]["severity"] == "error"
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_an_element_not_kept_is_named_in_a_warning(api: Api, personas: Any, agendas: Any) -> None:
    appointment = _book(personas, agendas.free(agendas.gp))
    response = _patched(
        api, appointment, personas.patient_user, {"status": "cancelled", "comment": "merci"}
    )
    assert response.status_code == 200
    assert "Appointment.comment" in response["Warning"]
