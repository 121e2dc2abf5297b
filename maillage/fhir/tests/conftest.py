"""What the FHIR tests share: an API client with bearer tokens, and FHIR re-parsing."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class

from maillage.accounts.actions import create_api_token
from maillage.accounts.models import User
from maillage.directory.models import Professional
from maillage.expertise.tests.conftest import dermatology  # noqa: F401 (the tele-expertise pool)

BASE = "/fhir/r4"
FHIR_JSON = "application/fhir+json"


@dataclass
class Api:
    client: Client
    tokens: dict[int, str] = field(default_factory=dict)

    def token(self, who: User | Professional) -> str:
        user = who.user if isinstance(who, Professional) else who
        assert user is not None
        if user.pk not in self.tokens:
            self.tokens[user.pk] = create_api_token(user, label="tests")
        return self.tokens[user.pk]

    def _auth(self, who: User | Professional | None, extra: dict[str, Any]) -> dict[str, Any]:
        if who is not None:
            extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.token(who)}")
        return extra

    # Any: the test client's response type is private to django-stubs.
    def get(self, path: str, who: User | Professional | None = None, **extra: Any) -> Any:
        return self.client.get(f"{BASE}/{path}", **self._auth(who, extra))

    def post(
        self,
        path: str,
        body: object,
        who: User | Professional | None = None,
        content_type: str = FHIR_JSON,
        **extra: Any,
    ) -> Any:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.post(
            f"{BASE}/{path}", data, content_type=content_type, **self._auth(who, extra)
        )


@pytest.fixture
def api(client: Client) -> Api:
    return Api(client)


def fhir_json(response: HttpResponse) -> dict[str, Any]:
    """The body of a FHIR response, re-parsed by its R4B model (entries too)."""
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    data: dict[str, Any] = json.loads(response.content)
    get_fhir_model_class(data["resourceType"]).model_validate(data)
    for entry in data.get("entry", []):
        # A batch-response entry may hold only its response (and outcome).
        for resource in (entry.get("resource"), entry.get("response", {}).get("outcome")):
            if resource is not None:
                get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return data


def issues(response: HttpResponse) -> list[dict[str, Any]]:
    data = fhir_json(response)
    assert data["resourceType"] == "OperationOutcome"
    return list(data["issue"])


def extension(resource: dict[str, Any], url: str) -> dict[str, Any]:
    found = [e for e in resource.get("extension", []) if e["url"] == url]
    assert len(found) == 1, f"{url} in {resource.get('extension')}"
    return dict(found[0])


# --- The shared record ----------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nCompte rendu\n%%EOF"


@pytest.fixture
def private_files(settings: Any, tmp_path: Any) -> None:
    """Files sealed under a key of the test, in a folder of the test."""
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "file-keys.json")
    settings.MAILLAGE_FILE_KEYS = ""


def document(
    author: User | Professional,
    patient: Any,
    doc_type: str = "teleconsultation_report",
    *,
    title: str = "Compte rendu",
    data: bytes = PDF,
    **fields: Any,
) -> Any:
    """A document with one sealed file, set up directly (the behaviour under test reads it)."""
    import datetime as dt

    from maillage.files import storage
    from maillage.records.models import Document, DocumentFile

    user = author.user if isinstance(author, Professional) else author
    assert user is not None
    stored = storage.store(data, "compte-rendu.pdf", by=user)
    made = Document.objects.create(
        patient=patient,
        type=doc_type,
        title=title,
        date=fields.pop("date", dt.date(2026, 11, 2)),
        author=user,
        author_label=user.display_name,
        **fields,
    )
    DocumentFile.objects.create(document=made, file=stored)
    return made


def patient_and_note(doctor_uuid: object, urn: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new Patient and a consult note about her by ``urn``: one transaction's two entries."""
    patient = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Durand", "given": ["Paul"]}],
        "gender": "male",
        "birthDate": "1960-05-02",
        "generalPractitioner": [{"reference": f"Practitioner/{doctor_uuid}"}],
    }
    note = {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "11488-4"}]},
        "subject": {"reference": urn},
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "title": "cr.pdf",
                    "data": base64.b64encode(PDF).decode(),
                }
            }
        ],
    }
    return patient, note


def in_care_team(professional: Professional, patient: Any) -> Any:
    """A place in the patient's care team, named by the patient (set up directly)."""
    from maillage.records.models import CareTeamMember, CareTeamReason

    return CareTeamMember.objects.create(
        patient=patient, professional=professional, reason=CareTeamReason.NAMED_BY_PATIENT
    )
