"""POST Patient with If-None-Exist: the search decides through the gate; 0 create, 1 it, 2+ 412."""

from __future__ import annotations

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import fhir_json, issues
from maillage.fhir.tests.test_patient_create import BIRTH, TEST_INS, _body
from maillage.patients.models import Patient
from maillage.testing import factories as f


def _matricule(body):
    return body["identifier"][0]["value"]


def _holder(body, **kw):
    """A patient already holding the body's matricule."""
    made = f.patient("DURAND", "Paul", BIRTH, "M", with_matricule=False, **kw)
    made.ins_matricule = _matricule(body)
    made.save()
    return made


def test_it_creates_when_nothing_matches(api, personas):
    body = _body()

    response = api.post(
        "Patient", body, personas.coordinator, HTTP_IF_NONE_EXIST=f"identifier={_matricule(body)}"
    )

    assert response.status_code == 201
    assert Patient.objects.count() == 2
    assert response["ETag"] == 'W/"1"'
    search = AuditEntry.objects.get(action=Action.SEARCH)
    assert search.detail["if_none_exist"] is True
    assert search.detail["results"] == 0


def test_it_answers_the_one_patient_found_without_creating(api, personas):
    body = _body()
    existing = _holder(body, followed_by=(personas.msp,))

    response = api.post(
        "Patient",
        body,
        personas.coordinator,
        HTTP_IF_NONE_EXIST=f"identifier={TEST_INS}|{_matricule(body)}",
    )

    assert response.status_code == 200
    assert fhir_json(response)["id"] == str(existing.uuid)
    assert response["ETag"] == 'W/"1"'
    assert Patient.objects.count() == 2
    assert not AuditEntry.objects.filter(action=Action.PATIENT_CREATE).exists()
    listed = AuditEntry.objects.get(action=Action.PATIENT_SEARCH)
    assert (listed.patient, listed.outcome) == (existing, Outcome.GRANTED)


def test_several_matches_answer_412(api, personas):
    f.patient("GIRARD", "Anne", followed_by=(personas.msp,), with_matricule=False)

    response = api.post(
        "Patient", _body(), personas.coordinator, HTTP_IF_NONE_EXIST="family=girard"
    )

    assert response.status_code == 412
    (issue,) = issues(response)
    assert issue["code"] == "multiple-matches"
    assert issue["diagnostics"].startswith("2 patients")
    assert Patient.objects.count() == 2


def test_a_patient_he_may_not_see_is_not_found_nor_duplicated(api, personas):
    body = _body()
    hidden = _holder(body)

    response = api.post(
        "Patient",
        body,
        personas.stranger_coordinator,
        HTTP_IF_NONE_EXIST=f"identifier={_matricule(body)}",
    )

    # Not found by the search (the gate), so a create: which the same matricule
    # refuses, naming her only as identity vigilance names a possible duplicate.
    assert response.status_code == 409
    assert AuditEntry.objects.get(action=Action.SEARCH).detail["results"] == 0
    assert not AuditEntry.objects.filter(action=Action.PATIENT_SEARCH, patient=hidden).exists()
    assert Patient.objects.count() == 2


def test_a_condition_that_is_not_a_patient_search_is_a_400(api, personas):
    for condition in ("colour=blue", "_count=5", "&" * 50 + "identifier=1"):
        response = api.post("Patient", _body(), personas.coordinator, HTTP_IF_NONE_EXIST=condition)

        assert response.status_code == 400, condition
    assert Patient.objects.count() == 1


def test_prefer_minimal_on_create(api, personas):
    response = api.post("Patient", _body(), personas.coordinator, HTTP_PREFER="return=minimal")

    assert response.status_code == 201
    assert response.content == b""
    assert response["Location"].endswith(str(Patient.objects.latest("pk").uuid))
    assert response["ETag"] == 'W/"1"'


def test_the_capability_statement_says_create_is_conditional(api, db):
    statement = fhir_json(api.get("metadata"))

    patient = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Patient")
    assert patient["conditionalCreate"] is True
    assert (patient["versioning"], patient["readHistory"], patient["updateCreate"]) == (
        "versioned-update",
        True,
        False,
    )


SYNTHEA_ID = ("https://github.com/synthetichealth/synthea", "27c911c6-f045-4ffa-af5d-6eba57ac94b2")


def _with_synthea_id(body):
    system, value = SYNTHEA_ID
    return body | {"identifier": [{"system": system, "value": value}]}


def test_another_systems_identifier_makes_a_create_conditional_too(api, personas):
    # The way an importer posts the same Synthea patient twice: once created, then found.
    body = _with_synthea_id(_body())
    condition = "identifier={}|{}".format(*SYNTHEA_ID)

    first = api.post("Patient", body, personas.coordinator, HTTP_IF_NONE_EXIST=condition)
    again = api.post("Patient", body, personas.coordinator, HTTP_IF_NONE_EXIST=condition)

    assert (first.status_code, again.status_code) == (201, 200)
    assert fhir_json(again)["id"] == fhir_json(first)["id"]
    assert Patient.objects.count() == 2


def test_a_search_by_another_systems_identifier_shows_only_whom_the_user_may_see(api, personas):
    body = _with_synthea_id(_body())
    made = fhir_json(api.post("Patient", body, personas.coordinator))
    wanted = {"identifier": "{}|{}".format(*SYNTHEA_ID)}

    found = fhir_json(api.get("Patient", personas.coordinator, data=wanted))
    stranger = fhir_json(api.get("Patient", personas.stranger_coordinator, data=wanted))
    other_value = fhir_json(
        api.get("Patient", personas.coordinator, data={"identifier": f"{SYNTHEA_ID[0]}|autre"})
    )
    other_system = fhir_json(
        api.get("Patient", personas.coordinator, data={"identifier": f"urn:x|{SYNTHEA_ID[1]}"})
    )

    assert [e["resource"]["id"] for e in found["entry"]] == [made["id"]]
    assert (stranger["total"], other_value["total"], other_system["total"]) == (0, 0, 0)
