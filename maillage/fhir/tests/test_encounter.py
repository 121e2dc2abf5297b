"""Encounter: a teleconsultation as FHIR (class VR, participants, period), through the policy."""

from __future__ import annotations

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import fhir_json, issues
from maillage.policy.teleconsult import Visitor
from maillage.teleconsult import actions
from maillage.teleconsult.tests.conftest import invite

pytestmark = pytest.mark.django_db


@pytest.fixture
def act(personas):
    consultation = actions.open_consultation(
        personas.treating_doctor.user, personas.patient, personas.treating_doctor, reason="Suivi"
    )
    patient = Visitor(user=personas.patient_user)
    place = consultation.participants.get(role="patient")
    actions.arrive(actions.seat_for_change(patient, consultation.uuid)[0])
    seat, change = actions.seat_for_change(
        Visitor(user=personas.treating_doctor.user), consultation.uuid, doctor_only=True
    )
    actions.admit(seat, change, place.uuid)
    invite(personas, consultation, role="interpreter", name="Ana Lopes")
    actions.close(consultation, personas.treating_doctor.user)
    consultation.refresh_from_db()
    return consultation


def test_it_reads_the_act_as_a_virtual_encounter(api, personas, act) -> None:
    response = api.get(f"Encounter/{act.uuid}", personas.treating_doctor)
    assert response.status_code == 200
    data = fhir_json(response)
    assert data["class"]["code"] == "VR" and data["status"] == "finished"
    assert data["subject"]["reference"] == f"Patient/{personas.patient.uuid}"
    assert data["period"]["start"] and data["period"]["end"]
    kinds = [
        (p["type"][0]["coding"][0]["code"], p["individual"].get("reference"))
        for p in data["participant"]
    ]
    assert kinds == [
        ("PPRF", f"Practitioner/{personas.treating_doctor.uuid}"),
        ("TRANS", None),
    ]
    assert data["reasonCode"] == [{"text": "Suivi"}]
    entry = AuditEntry.objects.filter(action=Action.TELECONSULT_READ).order_by("-id")[0]
    assert (entry.outcome, entry.detail["fhir"]) == (Outcome.GRANTED, "Encounter")


def test_the_patient_searches_her_own(api, personas, act) -> None:
    response = api.get(f"Encounter?patient=Patient/{personas.patient.uuid}", personas.patient_user)
    data = fhir_json(response)
    assert [e["resource"]["id"] for e in data["entry"]] == [str(act.uuid)]
    response = api.get("Encounter?status=in-progress", personas.patient_user)
    assert fhir_json(response)["total"] == 0


def test_a_stranger_gets_not_found_and_an_analyst_forbidden(api, personas, act) -> None:
    response = api.get(f"Encounter/{act.uuid}", personas.cardiologist)
    assert response.status_code == 404 and issues(response)
    refused = AuditEntry.objects.get(
        action=Action.TELECONSULT_READ, actor=personas.cardiologist.user
    )
    assert refused.outcome == Outcome.DENIED
    assert fhir_json(api.get("Encounter", personas.cardiologist))["total"] == 0
    assert api.get("Encounter", personas.analyst).status_code == 403
