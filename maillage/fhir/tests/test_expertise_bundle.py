"""A tele-expertise in a transaction: a document and the question sharing it, all or nothing."""

from __future__ import annotations

import base64

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.expertise.models import Request, Status
from maillage.fhir.tests.conftest import PDF, fhir_json
from maillage.fhir.tests.expertise_helpers import pool_performer, service_request
from maillage.records.models import Document

pytestmark = pytest.mark.usefixtures("private_files")

PHOTO_URN = "urn:uuid:7d4c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09"


def _photo(personas) -> dict:
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "11488-4"}]},
        "subject": {"reference": f"Patient/{personas.patient.uuid}"},
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "title": "dos.pdf",
                    "data": base64.b64encode(PDF).decode(),
                }
            }
        ],
    }


def _transaction(*entries: tuple[str, dict]) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                **({"fullUrl": urn} if urn else {}),
                "resource": resource,
                "request": {"method": "POST", "url": resource["resourceType"]},
            }
            for urn, resource in entries
        ],
    }


def test_the_question_shares_a_document_filed_in_the_same_transaction(api, personas, dermatology):
    question = service_request(
        personas,
        pool_performer(dermatology.pool),
        supportingInfo=[{"reference": PHOTO_URN}],
    )
    bundle = _transaction(("", question), (PHOTO_URN, _photo(personas)))

    response = api.post("", bundle, personas.treating_doctor)

    assert response.status_code == 200, response.content
    statuses = [e["response"]["status"] for e in fhir_json(response)["entry"]]
    assert statuses == ["201 Created", "201 Created"]
    request = Request.objects.get()
    photo = Document.objects.get()
    assert request.status == Status.WAITING
    assert list(request.documents.all()) == [photo]


def test_a_refused_question_undoes_the_document_and_keeps_the_refusal(api, personas, dermatology):
    question = service_request(
        personas,
        {"reference": f"Practitioner/{personas.cardiologist.uuid}"},  # answers no tele-expertise
        supportingInfo=[{"reference": PHOTO_URN}],
    )
    bundle = _transaction(("", question), (PHOTO_URN, _photo(personas)))

    response = api.post("", bundle, personas.treating_doctor)

    assert response.status_code == 422
    assert not Request.objects.exists()
    assert not Document.objects.exists()
    # The failed attempt to ask stays in the trail, marked as undone.
    asked = AuditEntry.objects.get(action=Action.EXPERTISE_ASK, patient=personas.patient)
    assert (asked.outcome, asked.detail["failure"]) == (Outcome.FAILED, "specialist")
    assert asked.detail["transaction"] == "rolled_back"
