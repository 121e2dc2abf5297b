"""PATCH Patient/{id}: a JSON Patch on the current version, then an update."""

from __future__ import annotations

import json
from typing import Any

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import BASE, fhir_json, issues
from maillage.patients.models import PatientVersion

JSON_PATCH = "application/json-patch+json"


def patch(api, patient, operations, who, content_type=JSON_PATCH, **extra: Any) -> Any:
    body = operations if isinstance(operations, str) else json.dumps(operations)
    return api.client.patch(
        f"{BASE}/Patient/{patient.uuid}",
        body,
        content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {api.token(who)}",
        **extra,
    )


USED_NAME = [{"op": "add", "path": "/name/-", "value": {"use": "usual", "family": "MARTIN"}}]


def test_it_patches_the_current_version(api, personas):
    patient = personas.patient

    response = patch(api, patient, USED_NAME, personas.nurse, HTTP_IF_MATCH='W/"1"')

    assert response.status_code == 200
    resource = fhir_json(response)
    assert resource["meta"]["versionId"] == "2"
    assert {"use": "usual", "family": "MARTIN"} in resource["name"]
    assert response["ETag"] == 'W/"2"'
    patient.refresh_from_db()
    assert (patient.used_name, patient.version) == ("MARTIN", 2)
    entry = AuditEntry.objects.get(action=Action.PATIENT_UPDATE)
    assert (entry.outcome, entry.detail["fields"]) == (Outcome.GRANTED, ["used_name"])


def test_a_stale_patch_gets_412(api, personas):
    assert patch(api, personas.patient, USED_NAME, personas.nurse).status_code == 200

    response = patch(api, personas.patient, USED_NAME, personas.nurse, HTTP_IF_MATCH='W/"1"')

    assert response.status_code == 412
    assert issues(response)[0]["code"] == "conflict"


def test_a_patch_must_be_a_json_patch(api, personas):
    response = patch(api, personas.patient, USED_NAME, personas.nurse, "application/fhir+json")

    assert response.status_code == 415
    assert "application/json-patch+json" in issues(response)[0]["diagnostics"]
    assert not AuditEntry.objects.filter(action=Action.PATIENT_UPDATE).exists()


def test_a_body_that_is_no_patch_is_a_400(api, personas):
    for body in ("{", json.dumps({"op": "add"}), json.dumps([{"op": "fly", "path": "/x"}])):
        response = patch(api, personas.patient, body, personas.nurse)

        assert response.status_code == 400, body
    assert not AuditEntry.objects.filter(action=Action.PATIENT_UPDATE).exists()


def test_a_patch_that_cannot_apply_is_a_422_audited_as_failed(api, personas):
    failing = [{"op": "test", "path": "/gender", "value": "male"}]

    response = patch(api, personas.patient, failing, personas.nurse)

    assert response.status_code == 422
    assert issues(response)[0]["code"] == "processing"
    entry = AuditEntry.objects.get(action=Action.PATIENT_UPDATE)
    assert (entry.outcome, entry.detail["failure"]) == (Outcome.FAILED, "invalid_identity")


def test_a_patch_that_makes_an_invalid_patient_is_refused(api, personas):
    for operations in (
        [{"op": "remove", "path": "/birthDate"}],
        [{"op": "replace", "path": "/gender", "value": "robot"}],
        [{"op": "replace", "path": "/id", "value": "autre"}],
    ):
        response = patch(api, personas.patient, operations, personas.nurse)

        assert response.status_code in (400, 422), operations
        assert issues(response)[0]["severity"] == "error"
    personas.patient.refresh_from_db()
    assert personas.patient.version == 1
    assert not PatientVersion.objects.exists()


def test_a_stranger_cannot_patch_and_is_audited(api, personas):
    response = patch(api, personas.patient, USED_NAME, personas.stranger_coordinator)

    assert response.status_code == 404
    entry = AuditEntry.objects.get(action=Action.PATIENT_UPDATE)
    assert (entry.outcome, entry.patient) == (Outcome.DENIED, personas.patient)
    personas.patient.refresh_from_db()
    assert personas.patient.used_name == ""


def test_her_own_token_cannot_patch_her_identity(api, personas):
    response = patch(api, personas.patient, USED_NAME, personas.patient_user)

    assert response.status_code == 403


def test_a_merge_patch_changes_the_elements_it_names(api, personas):
    patient = personas.patient
    changes = {"telecom": [{"system": "phone", "value": "0612345678"}]}

    response = patch(api, patient, changes, personas.nurse, "application/merge-patch+json")

    assert response.status_code == 200
    resource = fhir_json(response)
    assert resource["telecom"] == [{"system": "phone", "value": "0612345678"}]
    assert resource["name"][0]["family"] == "GIRARD"
    patient.refresh_from_db()
    assert (patient.phone, patient.version) == ("0612345678", 2)


def test_a_merge_patch_null_removes_and_cannot_change_the_id(api, personas):
    patient = personas.patient
    removed = patch(api, patient, {"birthDate": None}, personas.nurse, "application/json")
    moved = patch(api, patient, {"id": "autre"}, personas.nurse, "application/json")
    listed = patch(
        api, patient, [{"op": "remove", "path": "/gender"}], personas.nurse, "application/json"
    )

    assert removed.status_code == 400  # an identity needs its birth date
    assert moved.status_code == 422
    assert listed.status_code == 400
    patient.refresh_from_db()
    assert patient.version == 1


def test_a_copy_that_would_double_the_patient_is_refused_before_anything(api, personas):
    # 25 copies of the names into themselves would make gigabytes.
    doubling = [{"op": "copy", "from": "/name", "path": "/name/-"}] * 25

    response = patch(api, personas.patient, doubling, personas.treating_doctor)

    assert response.status_code == 400
    (issue,) = issues(response)
    assert issue["code"] == "not-supported"
    assert "« copy »" in issue["diagnostics"]
    assert not PatientVersion.objects.exists()
