"""fhirpy, used unchanged against a live server, posts a transaction to the base."""

from __future__ import annotations

from typing import Any

import pytest
from fhirpy import SyncFHIRClient

from maillage.accounts.actions import create_api_token
from maillage.fhir.tests.conftest import patient_and_note
from maillage.records.models import Document

URN = "urn:uuid:2b7f9d1e-3c4a-4e8b-9f0a-1d2c3b4a5e6f"


@pytest.fixture
def fhir(live_server: Any, personas: Any, private_files: None) -> SyncFHIRClient:
    token = create_api_token(personas.treating_doctor.user, label="fhirpy")
    return SyncFHIRClient(f"{live_server.url}/fhir/r4", authorization=f"Bearer {token}")


def test_fhirpy_posts_a_transaction_and_reads_back_what_it_created(fhir, personas):
    doctor = personas.treating_doctor
    patient, document = patient_and_note(doctor.uuid, URN)
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": document, "request": {"method": "POST", "url": "DocumentReference"}},
            {"fullUrl": URN, "resource": patient, "request": {"method": "POST", "url": "Patient"}},
        ],
    }

    # fhirpy has no transaction helper: its documented way is execute() on the base.
    response = fhir.execute("", method="post", data=bundle)

    assert response["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in response["entry"]]
    assert statuses == ["201 Created", "201 Created"]
    patient_id = response["entry"][1]["resource"]["id"]
    read = fhir.reference("Patient", patient_id).to_resource()
    assert read["birthDate"] == "1960-05-02"
    documents = fhir.resources("DocumentReference").search(patient=f"Patient/{patient_id}").fetch()
    assert [d["id"] for d in documents] == [str(Document.objects.get().uuid)]
    assert documents[0]["subject"]["reference"] == f"Patient/{patient_id}"
