"""A Bundle posted with an app's token: each entry is held to the token's scopes."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import BASE, FHIR_JSON, issues, patient_and_note
from maillage.patients.models import Patient
from maillage.records.models import Document
from maillage.smart.tests.conftest import launch

URN = "urn:uuid:6a0f0d3e-7c43-4d7b-8a51-3f1c2b9d0e42"


def _bundle(doctor_uuid: object) -> dict[str, Any]:
    patient, document = patient_and_note(doctor_uuid, URN)
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": URN, "resource": patient, "request": {"method": "POST", "url": "Patient"}},
            {"resource": document, "request": {"method": "POST", "url": "DocumentReference"}},
        ],
    }


def _post(token: dict[str, Any], body: dict[str, Any]) -> Any:
    return Client().post(
        f"{BASE}/",
        json.dumps(body),
        content_type=FHIR_JSON,
        HTTP_AUTHORIZATION=f"Bearer {token['access_token']}",
    )


def test_an_entry_outside_the_scopes_undoes_the_transaction(client, personas, app, private_files):
    doctor = personas.treating_doctor
    token = launch(client, doctor.user, app).token("user/Patient.cruds")

    response = _post(token, _bundle(doctor.uuid))

    assert response.status_code == 403
    assert "autorisations" in issues(response)[1]["diagnostics"]
    assert Patient.objects.count() == 1
    assert not Document.objects.exists()
    refused = AuditEntry.objects.get(action=Action.SCOPE_REFUSED)
    assert (refused.outcome, refused.actor) == (Outcome.DENIED, doctor.user)
    assert refused.detail["fhir"] == "DocumentReference"
    assert refused.detail["transaction"] == "rolled_back"


def test_scopes_that_cover_every_entry_let_the_transaction_through(
    client, personas, app, private_files
):
    doctor = personas.treating_doctor
    token = launch(client, doctor.user, app).token(
        "user/Patient.cruds user/DocumentReference.cruds"
    )

    response = _post(token, _bundle(doctor.uuid))

    assert response.status_code == 200, response.content
    assert Document.objects.get().patient.birth_name == "Durand"
