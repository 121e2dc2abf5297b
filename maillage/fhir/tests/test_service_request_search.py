"""ServiceRequest search: the caller's own requests only, each one shown opened and audited."""

from __future__ import annotations

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.expertise import actions
from maillage.fhir.tests.conftest import fhir_json, issues
from maillage.fhir.tests.expertise_helpers import ask_pool
from maillage.testing import factories as f

pytestmark = pytest.mark.usefixtures("private_files")


def ids(response) -> list[str]:
    return [
        e["resource"]["id"]
        for e in fhir_json(response).get("entry", [])
        if e["search"]["mode"] == "match"
    ]


def test_the_requester_finds_her_requests_by_patient(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    other_patient = f.patient("MARTIN", "Paul", treating_doctor=personas.treating_doctor)
    ask_pool(personas, dermatology, question="Autre patient")  # same patient, second request
    gp = personas.treating_doctor

    found = api.get(f"ServiceRequest?patient=Patient/{personas.patient.uuid}", gp)
    by_subject = api.get(f"ServiceRequest?subject={personas.patient.uuid}&_id={request.uuid}", gp)
    nobody = api.get(f"ServiceRequest?patient={other_patient.uuid}", gp)

    assert len(ids(found)) == 2 and fhir_json(found)["total"] == 2
    assert ids(by_subject) == [str(request.uuid)]
    assert ids(nobody) == []


def test_each_request_shown_is_an_audited_read(api, personas, dermatology):
    first = ask_pool(personas, dermatology)
    second = ask_pool(personas, dermatology)
    api.token(dermatology.second)
    before = AuditEntry.objects.count()

    response = api.get("ServiceRequest?status=active", dermatology.second)

    assert set(ids(response)) == {str(first.uuid), str(second.uuid)}
    entries = AuditEntry.objects.order_by("seq")[before:]
    assert [(e.action, e.outcome) for e in entries] == [
        (Action.EXPERTISE_READ, Outcome.GRANTED)
    ] * 2
    assert {e.detail["request"] for e in entries} == {str(first.uuid), str(second.uuid)}


def test_performer_requester_and_status(api, personas, dermatology):
    waiting = ask_pool(personas, dermatology)
    taken = ask_pool(personas, dermatology)
    actions.claim(dermatology.first.user, taken.uuid)
    gp = personas.treating_doctor

    pool = api.get(f"ServiceRequest?performer=CareTeam/{dermatology.pool.uuid}", gp)
    specialist = api.get(f"ServiceRequest?performer=Practitioner/{dermatology.first.uuid}", gp)
    mine = api.get(f"ServiceRequest?requester=Practitioner/{gp.uuid}&status=active", gp)
    done = api.get("ServiceRequest?status=completed,revoked", gp)

    assert ids(pool) == [str(waiting.uuid)]
    assert ids(specialist) == [str(taken.uuid)]
    assert set(ids(mine)) == {str(waiting.uuid), str(taken.uuid)}
    assert ids(done) == []


def test_a_stranger_and_a_pool_member_after_the_claim_find_nothing(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    actions.claim(dermatology.first.user, request.uuid)

    assert ids(api.get("ServiceRequest", personas.cardiologist)) == []
    assert ids(api.get("ServiceRequest", dermatology.second)) == []
    assert ids(api.get("ServiceRequest", dermatology.first)) == [str(request.uuid)]


def test_a_patient_gets_403(api, personas, dermatology):
    ask_pool(personas, dermatology)

    response = api.get(f"ServiceRequest?patient={personas.patient.uuid}", personas.patient_user)

    assert response.status_code == 403


def test_bad_values_are_400_naming_them(api, personas, dermatology):
    gp = personas.treating_doctor

    status = api.get("ServiceRequest?status=finished", gp)
    performer = api.get("ServiceRequest?performer=Patient/x", gp)
    unknown = api.get("ServiceRequest?code=x", gp)

    assert status.status_code == performer.status_code == unknown.status_code == 400
    assert "finished" in issues(status)[0]["diagnostics"]


def test_includes_bring_the_patient_and_the_task(api, personas, dermatology):
    request = ask_pool(personas, dermatology)

    response = api.get(
        f"ServiceRequest?_id={request.uuid}&_include=ServiceRequest:patient&_revinclude=Task:focus",
        personas.treating_doctor,
    )

    kinds = {
        (e["resource"]["resourceType"], e["search"]["mode"]) for e in fhir_json(response)["entry"]
    }
    assert kinds == {("ServiceRequest", "match"), ("Patient", "include"), ("Task", "include")}
