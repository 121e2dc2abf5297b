"""PUT Patient/{id}: an update through patients.actions, If-Match, Prefer, every refusal audited."""

from __future__ import annotations

import json
from typing import Any

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import BASE, FHIR_JSON, fhir_json, issues
from maillage.patients.models import IdentityDocument, Patient, PatientVersion
from maillage.testing import factories as f


def put(api, patient_id, body, who, **extra: Any) -> Any:
    return api.client.put(
        f"{BASE}/Patient/{patient_id}",
        json.dumps(body),
        content_type=FHIR_JSON,
        HTTP_AUTHORIZATION=f"Bearer {api.token(who)}",
        **extra,
    )


def read(api, patient, who):
    response = api.get(f"Patient/{patient.uuid}", who)
    return fhir_json(response), response["ETag"]


def with_used_name(resource, name):
    changed = json.loads(json.dumps(resource))
    changed["name"] = [n for n in changed["name"] if n["use"] != "usual"]
    changed["name"].append({"use": "usual", "family": name})
    return changed


def test_her_doctor_changes_the_used_name_of_the_version_she_read(api, personas):
    doctor, patient = personas.treating_doctor, personas.patient
    resource, etag = read(api, patient, doctor)

    response = put(
        api, patient.uuid, with_used_name(resource, "MARTIN"), doctor, HTTP_IF_MATCH=etag
    )

    assert response.status_code == 200
    body = fhir_json(response)
    assert body["meta"]["versionId"] == "2"
    assert {"use": "usual", "family": "MARTIN"} in body["name"]
    assert response["ETag"] == 'W/"2"'
    assert response["Last-Modified"]
    patient.refresh_from_db()
    assert (patient.used_name, patient.version) == ("MARTIN", 2)
    assert PatientVersion.objects.get(patient=patient).version == 1
    entry = AuditEntry.objects.get(action=Action.PATIENT_UPDATE)
    assert (entry.outcome, entry.actor, entry.channel) == (Outcome.GRANTED, doctor.user, "fhir")
    assert entry.detail["fields"] == ["used_name"]
    assert entry.detail["version"] == 2


def test_a_stale_if_match_gets_412_and_changes_nothing(api, personas):
    doctor, patient = personas.treating_doctor, personas.patient
    resource, etag = read(api, patient, doctor)
    assert put(api, patient.uuid, with_used_name(resource, "MARTIN"), doctor).status_code == 200

    response = put(
        api, patient.uuid, with_used_name(resource, "DUBOIS"), doctor, HTTP_IF_MATCH=etag
    )

    assert response.status_code == 412
    (issue,) = issues(response)
    assert issue["code"] == "conflict"
    assert "version 2" in issue["diagnostics"]
    patient.refresh_from_db()
    assert (patient.used_name, patient.version) == ("MARTIN", 2)
    failed = AuditEntry.objects.filter(action=Action.PATIENT_UPDATE).latest("seq")
    assert (failed.outcome, failed.detail["failure"]) == (Outcome.FAILED, "stale_version")


def test_two_updates_of_the_same_version_cannot_both_win(api, personas):
    nurse, doctor, patient = personas.nurse, personas.treating_doctor, personas.patient
    resource, etag = read(api, patient, doctor)

    first = put(api, patient.uuid, with_used_name(resource, "MARTIN"), doctor, HTTP_IF_MATCH=etag)
    second = put(api, patient.uuid, with_used_name(resource, "DUBOIS"), nurse, HTTP_IF_MATCH=etag)

    assert (first.status_code, second.status_code) == (200, 412)
    patient.refresh_from_db()
    assert patient.used_name == "MARTIN"


def test_an_if_match_that_names_no_version_is_refused(api, personas):
    resource, _etag = read(api, personas.patient, personas.treating_doctor)

    for value in ('"abc"', "W/", 'W/"-1"', 'W/"1" garbage'):
        response = put(
            api, personas.patient.uuid, resource, personas.treating_doctor, HTTP_IF_MATCH=value
        )
        assert response.status_code == 400, value
        assert "If-Match" in issues(response)[0]["diagnostics"]


def test_an_unchanged_put_keeps_the_version(api, personas):
    resource, etag = read(api, personas.patient, personas.treating_doctor)

    response = put(
        api, personas.patient.uuid, resource, personas.treating_doctor, HTTP_IF_MATCH=etag
    )

    assert response.status_code == 200
    assert response["ETag"] == 'W/"1"'
    assert not PatientVersion.objects.exists()


def test_the_id_of_the_body_must_be_the_id_of_the_url(api, personas):
    resource, _etag = read(api, personas.patient, personas.treating_doctor)
    other = f.patient("DURAND", "Paul", followed_by=(personas.msp,))

    wrong = put(api, other.uuid, resource, personas.treating_doctor)
    missing = put(api, personas.patient.uuid, {**resource, "id": None}, personas.treating_doctor)

    assert (wrong.status_code, missing.status_code) == (400, 400)
    assert issues(wrong)[0]["expression"] == ["Patient.id"]
    assert not AuditEntry.objects.filter(action=Action.PATIENT_UPDATE).exists()


def test_an_unknown_id_is_not_created_by_an_update(api, personas):
    resource, _etag = read(api, personas.patient, personas.treating_doctor)
    unknown = "0b7a4c1e-3f3e-4a57-9f55-0d6c2b0f8a11"

    response = put(api, unknown, {**resource, "id": unknown}, personas.treating_doctor)

    assert response.status_code == 404
    assert Patient.objects.count() == 1
    entry = AuditEntry.objects.get(action=Action.PATIENT_UPDATE)
    assert (entry.outcome, entry.detail["unknown_id"]) == (Outcome.DENIED, unknown)


def test_a_doctor_of_another_team_gets_404_and_his_attempt_is_on_her_trail(api, personas):
    resource, _etag = read(api, personas.patient, personas.treating_doctor)

    response = put(
        api, personas.patient.uuid, with_used_name(resource, "PIRATE"), personas.cardiologist
    )

    assert response.status_code == 404
    personas.patient.refresh_from_db()
    assert personas.patient.used_name == ""
    entry = AuditEntry.objects.get(action=Action.PATIENT_UPDATE)
    assert (entry.outcome, entry.patient, entry.actor) == (
        Outcome.DENIED,
        personas.patient,
        personas.cardiologist.user,
    )
    assert entry.detail["rule"] == "relation"


def test_her_own_token_cannot_change_her_identity(api, personas):
    resource, etag = read(api, personas.patient, personas.patient_user)

    response = put(
        api,
        personas.patient.uuid,
        with_used_name(resource, "AUTRE"),
        personas.patient_user,
        HTTP_IF_MATCH=etag,
    )

    assert response.status_code == 403
    personas.patient.refresh_from_db()
    assert personas.patient.used_name == ""
    entry = AuditEntry.objects.get(action=Action.PATIENT_UPDATE)
    assert (entry.outcome, entry.detail["rule"]) == (Outcome.DENIED, "role")


def test_what_a_read_never_shows_is_kept_by_an_update(api, personas):
    patient = personas.patient
    patient.identity_document = IdentityDocument.PASSPORT
    patient.save()
    matricule = patient.ins_matricule
    resource, _etag = read(api, patient, personas.treating_doctor)
    # Validated, not qualified: the matricule is not shown, so not sent back.
    assert "identifier" not in resource

    response = put(api, patient.uuid, with_used_name(resource, "MARTIN"), personas.treating_doctor)

    assert response.status_code == 200
    patient.refresh_from_db()
    assert (patient.ins_matricule, patient.identity_document) == (
        matricule,
        IdentityDocument.PASSPORT,
    )
    assert patient.identity_status.value == "VALI"


def test_an_invalid_identity_is_a_400_naming_the_element(api, personas):
    resource, _etag = read(api, personas.patient, personas.treating_doctor)
    resource["birthDate"] = "2999-01-01"

    response = put(api, personas.patient.uuid, resource, personas.treating_doctor)

    assert response.status_code == 400
    found = issues(response)
    assert {i["expression"][0] for i in found} == {"Patient.birthDate"}
    assert found[0]["diagnostics"] == "La date de naissance est dans le futur."
    entry = AuditEntry.objects.get(action=Action.PATIENT_UPDATE)
    assert (entry.outcome, entry.detail["failure"]) == (Outcome.FAILED, "invalid_identity")


def test_prefer_minimal_and_operation_outcome(api, personas):
    doctor, patient = personas.treating_doctor, personas.patient
    resource, _etag = read(api, patient, doctor)

    minimal = put(
        api, patient.uuid, with_used_name(resource, "MARTIN"), doctor, HTTP_PREFER="return=minimal"
    )
    outcome = put(
        api,
        patient.uuid,
        with_used_name(resource, "DUBOIS"),
        doctor,
        HTTP_PREFER="return=OperationOutcome",
    )

    assert (minimal.status_code, minimal.content, minimal["ETag"]) == (200, b"", 'W/"2"')
    assert outcome.status_code == 200
    assert outcome["ETag"] == 'W/"3"'
    (issue,) = issues(outcome)
    assert issue["severity"] == "information"
    assert f"Patient/{patient.uuid}/_history/3" in issue["diagnostics"]
    assert issue["diagnostics"].startswith("Mis à jour")


def test_a_put_must_be_fhir_json(api, personas):
    response = api.client.put(
        f"{BASE}/Patient/{personas.patient.uuid}",
        "<Patient/>",
        content_type="application/xml",
        HTTP_AUTHORIZATION=f"Bearer {api.token(personas.treating_doctor)}",
    )

    assert response.status_code == 415


def test_types_without_update_answer_405(api, personas):
    response = api.client.put(
        f"{BASE}/Practitioner/{personas.cardiologist.uuid}",
        "{}",
        content_type=FHIR_JSON,
        HTTP_AUTHORIZATION=f"Bearer {api.token(personas.nurse)}",
    )

    assert response.status_code == 405
    assert response["Allow"] == "GET"
