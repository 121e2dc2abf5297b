from __future__ import annotations

import base64
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import PDF, document, fhir_json, in_care_team, issues
from maillage.files import storage
from maillage.records import actions

pytestmark = pytest.mark.usefixtures("private_files")


def _file(doc):
    return doc.document_files.get().file


def test_it_serves_the_bytes_to_the_treating_doctor_and_audits_it(api, personas):
    doc = document(personas.treating_doctor, personas.patient)
    stored = _file(doc)

    response = api.get(f"Binary/{stored.uuid}", personas.treating_doctor)

    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"compte-rendu.pdf\"; filename*=UTF-8''compte-rendu.pdf"
    )
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert set(response["Cache-Control"].split(", ")) == {"private", "no-store"}
    entry = AuditEntry.objects.get(action=Action.DOCUMENT_READ)
    assert (entry.outcome, entry.patient, entry.detail["document"]) == (
        Outcome.GRANTED,
        personas.patient,
        str(doc.uuid),
    )


@pytest.mark.parametrize(
    "extra",
    [
        {"HTTP_ACCEPT": "application/fhir+json"},
        {"HTTP_ACCEPT": "application/json"},
        {"data": {"_format": "json"}},
    ],
)
def test_it_answers_a_binary_resource_when_fhir_json_is_asked_for(api, personas, extra):
    doc = document(personas.treating_doctor, personas.patient)
    stored = _file(doc)

    response = api.get(f"Binary/{stored.uuid}", personas.treating_doctor, **extra)

    assert response.status_code == 200
    binary = fhir_json(response)
    assert binary["id"] == str(stored.uuid)
    assert binary["contentType"] == "application/pdf"
    assert base64.b64decode(binary["data"]) == PDF
    assert binary["securityContext"] == {"reference": f"DocumentReference/{doc.uuid}"}


@pytest.mark.parametrize("accept", ["application/pdf", "application/*", "*/*", ""])
def test_it_serves_the_bytes_to_what_accepts_them(api, personas, accept):
    stored = _file(document(personas.treating_doctor, personas.patient))

    response = api.get(f"Binary/{stored.uuid}", personas.treating_doctor, HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response.content == PDF


def test_it_answers_406_when_neither_the_type_nor_fhir_is_accepted(api, personas):
    stored = _file(document(personas.treating_doctor, personas.patient))

    response = api.get(f"Binary/{stored.uuid}", personas.treating_doctor, HTTP_ACCEPT="image/png")

    assert response.status_code == 406
    assert issues(response)[0]["code"] == "not-supported"


def test_it_answers_406_to_an_xml_format(api, personas):
    stored = _file(document(personas.treating_doctor, personas.patient))

    response = api.get(f"Binary/{stored.uuid}", personas.treating_doctor, data={"_format": "xml"})

    assert response.status_code == 406


def test_it_answers_404_to_an_outsider_and_audits_the_refusal(api, personas):
    stored = _file(document(personas.treating_doctor, personas.patient))

    response = api.get(f"Binary/{stored.uuid}", personas.cardiologist)

    assert response.status_code == 404
    assert b"%PDF" not in response.content
    entry = AuditEntry.objects.get(action=Action.DOCUMENT_READ)
    assert (entry.outcome, entry.patient, entry.actor) == (
        Outcome.DENIED,
        personas.patient,
        personas.cardiologist.user,
    )


def test_it_never_serves_the_file_of_a_masked_document_to_the_care_team(api, personas):
    in_care_team(personas.nurse, personas.patient)
    doc = document(personas.treating_doctor, personas.patient, "lab_results")
    actions.mask_document(personas.patient_user, doc)

    refused = api.get(f"Binary/{_file(doc).uuid}", personas.nurse)
    served = api.get(f"Binary/{_file(doc).uuid}", personas.treating_doctor)

    assert refused.status_code == 404
    assert served.status_code == 200


def test_it_serves_a_file_through_any_document_the_caller_may_see(api, personas):
    in_care_team(personas.nurse, personas.patient)
    masked = document(personas.treating_doctor, personas.patient, "lab_results")
    actions.mask_document(personas.patient_user, masked)
    stored = _file(masked)
    visible = actions.file_document(
        personas.treating_doctor.user,
        personas.patient,
        actions.NewDocument("liaison_letter", "Lettre", masked.date),
        files=[stored],
    )

    response = api.get(f"Binary/{stored.uuid}", personas.nurse)

    assert response.status_code == 200
    assert fhir_json(
        api.get(f"Binary/{stored.uuid}", personas.nurse, HTTP_ACCEPT="application/fhir+json")
    )["securityContext"] == {"reference": f"DocumentReference/{visible.uuid}"}


@pytest.mark.parametrize("file_id", ["4006cdaf-0046-492b-b47d-62aa36711ba0", "not-a-uuid"])
def test_it_answers_404_to_an_unknown_file_and_audits_it(api, personas, file_id):
    response = api.get(f"Binary/{file_id}", personas.treating_doctor)

    assert response.status_code == 404
    entry = AuditEntry.objects.get(action=Action.DOCUMENT_READ)
    assert (entry.outcome, entry.patient, entry.detail) == (
        Outcome.DENIED,
        None,
        {"unknown_file": file_id},
    )


def test_it_does_not_serve_a_file_held_by_no_document(api, personas):
    stored = storage.store(PDF, "piece-jointe.pdf", by=personas.treating_doctor.user)

    response = api.get(f"Binary/{stored.uuid}", personas.treating_doctor)

    assert response.status_code == 404


def test_it_answers_409_to_a_corrupted_file_never_500(api, personas):
    stored = _file(document(personas.treating_doctor, personas.patient))
    path = Path(settings.MAILLAGE_FILES_DIR) / str(stored.uuid)[:2] / f"{stored.uuid}.sealed"
    damaged = bytearray(path.read_bytes())
    damaged[40] ^= 0xFF
    path.write_bytes(bytes(damaged))

    raw = api.get(f"Binary/{stored.uuid}", personas.treating_doctor)
    as_resource = api.get(
        f"Binary/{stored.uuid}", personas.treating_doctor, HTTP_ACCEPT="application/fhir+json"
    )

    for response in (raw, as_resource):
        assert response.status_code == 409
        (issue,) = issues(response)
        assert issue["code"] == "processing"
        with translation.override("fr"):
            assert issue["diagnostics"] == _(
                "This file failed its integrity check and is not served. The incident is "
                "recorded; ask the author to file the document again."
            )
    assert AuditEntry.objects.filter(action=Action.FILE_INTEGRITY_FAILED).count() == 2


def test_it_lets_the_patient_download_her_file_but_not_a_hidden_one(api, personas):
    shown = document(personas.treating_doctor, personas.patient)
    hidden = document(personas.treating_doctor, personas.patient, hidden_from_patient=True)

    assert api.get(f"Binary/{_file(shown).uuid}", personas.patient_user).status_code == 200
    assert api.get(f"Binary/{_file(hidden).uuid}", personas.patient_user).status_code == 404
