from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest
from django.utils import translation
from django.utils.translation import gettext as _

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import PDF, fhir_json, in_care_team, issues
from maillage.records.models import Document

pytestmark = pytest.mark.usefixtures("private_files")

OURS = "https://maillage.example/fhir/CodeSystem/document-type"
VISIBILITY = (
    "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/"
    "TRE-A07-StatutVisibiliteDocument"
)
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def _body(patient, *, data=PDF, **changes):
    body = {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {"coding": [{"system": OURS, "code": "teleconsultation_report"}]},
        "subject": {"reference": f"Patient/{patient.uuid}"},
        "description": "Compte rendu de téléconsultation du 2 novembre",
        "context": {"period": {"start": "2026-11-02"}},
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "title": "cr-teleconsultation.pdf",
                    "data": base64.b64encode(data).decode(),
                }
            }
        ],
    }
    body.update(changes)
    return body


def _expressions(response):
    return [e for issue in issues(response) for e in issue.get("expression", [])]


def test_it_files_a_pdf_and_serves_it_back_through_binary(api, personas):
    doctor = personas.treating_doctor

    response = api.post("DocumentReference", _body(personas.patient), doctor)

    assert response.status_code == 201
    resource = fhir_json(response)
    document = Document.objects.get()
    assert response["Location"] == f"http://testserver/fhir/r4/DocumentReference/{document.uuid}"
    assert resource["id"] == str(document.uuid)
    assert (document.patient, document.author, document.type) == (
        personas.patient,
        doctor.user,
        "teleconsultation_report",
    )
    assert document.title == "Compte rendu de téléconsultation du 2 novembre"
    assert document.date == dt.date(2026, 11, 2)
    assert not document.hidden_from_patient
    assert resource["author"][0]["reference"] == f"Practitioner/{doctor.uuid}"
    entry = AuditEntry.objects.get(action=Action.DOCUMENT_CREATE)
    assert (entry.outcome, entry.patient, entry.basis) == (
        Outcome.GRANTED,
        personas.patient,
        "treating_doctor",
    )

    url = resource["content"][0]["attachment"]["url"]
    raw = api.get(url.removeprefix("http://testserver/fhir/r4/"), doctor)
    as_resource = api.get(
        url.removeprefix("http://testserver/fhir/r4/"), doctor, HTTP_ACCEPT="application/fhir+json"
    )

    assert raw.status_code == 200
    assert raw["Content-Type"] == "application/pdf"
    assert raw.content == PDF
    binary = fhir_json(as_resource)
    assert base64.b64decode(binary["data"]) == PDF
    assert binary["securityContext"] == {"reference": f"DocumentReference/{document.uuid}"}


def test_it_hides_a_document_from_the_patient_when_the_author_says_so(api, personas):
    labels = [{"coding": [{"system": VISIBILITY, "code": "INVISIBLE_PATIENT"}]}]
    body = _body(personas.patient, securityLabel=labels)

    response = api.post("DocumentReference", body, personas.treating_doctor)

    assert response.status_code == 201
    assert Document.objects.get().hidden_from_patient
    assert fhir_json(response)["securityLabel"][0]["coding"][0]["code"] == "INVISIBLE_PATIENT"
    assert (
        api.get(
            f"DocumentReference/{Document.objects.get().uuid}", personas.patient_user
        ).status_code
        == 404
    )


def test_it_takes_the_visibility_under_its_oid_too(api, personas):
    labels = [
        {
            "coding": [
                {
                    "system": "urn:oid:1.2.250.1.213.1.1.4.13",
                    "code": "INVISIBLE_REPRESENTANTS_LEGAUX",
                }
            ]
        }
    ]

    response = api.post(
        "DocumentReference", _body(personas.patient, securityLabel=labels), personas.treating_doctor
    )

    assert response.status_code == 201
    assert Document.objects.get().hidden_from_legal_representatives


def test_it_refuses_masque_ps_which_only_the_patient_decides(api, personas):
    labels = [
        {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "N"}
            ]
        },
        {"coding": [{"system": VISIBILITY, "code": "MASQUE_PS"}]},
    ]

    response = api.post(
        "DocumentReference", _body(personas.patient, securityLabel=labels), personas.treating_doctor
    )

    assert response.status_code == 400
    (issue,) = issues(response)
    assert issue["code"] == "business-rule"
    assert issue["expression"] == ["DocumentReference.securityLabel[1].coding[0]"]
    assert not Document.objects.exists()


def test_it_refuses_an_executable_with_the_french_message(api, personas):
    response = api.post(
        "DocumentReference", _body(personas.patient, data=EXECUTABLE), personas.treating_doctor
    )

    assert response.status_code == 400
    (issue,) = issues(response)
    assert issue["diagnostics"] == (
        "Ce fichier est un programme ou une archive : il ne peut pas être conservé dans un "
        "dossier de santé."
    )
    assert issue["expression"] == ["DocumentReference.content[0].attachment.data"]
    assert not Document.objects.exists()
    assert not AuditEntry.objects.filter(action=Action.DOCUMENT_CREATE).exists()


@pytest.mark.parametrize("data", ["not base64!!", "JVBERi0x@@@@", "%PDF-1.4"])
def test_it_refuses_bad_base64(api, personas, data):
    body = _body(personas.patient)
    body["content"][0]["attachment"]["data"] = data

    response = api.post("DocumentReference", body, personas.treating_doctor)

    assert response.status_code == 400
    (issue,) = issues(response)
    assert issue["expression"] == ["DocumentReference.content[0].attachment.data"]
    with translation.override("fr"):
        assert issue["diagnostics"] == _("The attachment data is not valid base64.")
    assert not Document.objects.exists()


def test_it_answers_404_to_a_professional_outside_the_care_team_and_audits_it(api, personas):
    response = api.post("DocumentReference", _body(personas.patient), personas.cardiologist)

    assert response.status_code == 404
    assert issues(response)[0]["code"] == "not-found"
    entry = AuditEntry.objects.get(action=Action.DOCUMENT_CREATE)
    assert (entry.outcome, entry.patient, entry.actor) == (
        Outcome.DENIED,
        personas.patient,
        personas.cardiologist.user,
    )
    assert not Document.objects.exists()


def test_it_answers_404_to_an_unknown_patient_and_audits_it(api, personas):
    body = _body(
        personas.patient, subject={"reference": "Patient/3f2b1c9e-0000-4000-8000-000000000000"}
    )

    response = api.post("DocumentReference", body, personas.treating_doctor)

    assert response.status_code == 404
    entry = AuditEntry.objects.get(action=Action.DOCUMENT_CREATE)
    assert (entry.outcome, entry.patient) == (Outcome.DENIED, None)


def test_it_answers_404_to_the_patient_herself(api, personas):
    response = api.post("DocumentReference", _body(personas.patient), personas.patient_user)

    assert response.status_code == 404


def test_it_answers_403_to_a_type_the_profession_may_not_write(api, personas):
    in_care_team(personas.nurse, personas.patient)
    body = _body(personas.patient, type={"coding": [{"system": OURS, "code": "prescription"}]})

    response = api.post("DocumentReference", body, personas.nurse)

    assert response.status_code == 403
    (issue,) = issues(response)
    assert issue["code"] == "forbidden"
    assert (
        issue["diagnostics"] == "Votre rôle ne permet pas d'ajouter ce type de document au dossier."
    )
    assert not Document.objects.exists()


def test_it_lets_a_care_team_nurse_file_a_photo(api, personas):
    in_care_team(personas.nurse, personas.patient)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    body = _body(
        personas.patient,
        data=png,
        type={"coding": [{"system": "http://loinc.org", "code": "52040-3"}]},
    )
    # The name's extension must agree with the content (a .pdf name on a PNG is refused).
    body["content"][0]["attachment"]["title"] = "talon.png"

    response = api.post("DocumentReference", body, personas.nurse)

    assert response.status_code == 201
    document = Document.objects.get()
    assert document.type == "photo"
    assert document.document_files.get().file.mime == "image/png"


@pytest.mark.parametrize(
    ("code", "expected"),
    [("11502-2", "lab_results"), ("11490-0", "liaison_letter"), ("18748-4", "imaging_report")],
)
def test_it_maps_a_loinc_type_back(api, personas, code, expected):
    body = _body(personas.patient, type={"coding": [{"system": "http://loinc.org", "code": code}]})

    response = api.post("DocumentReference", body, personas.treating_doctor)

    assert response.status_code == 201
    assert Document.objects.get().type == expected


def test_it_prefers_our_own_coding_of_the_type(api, personas):
    body = _body(
        personas.patient,
        type={
            "coding": [
                {"system": "http://loinc.org", "code": "85208-7"},
                {"system": OURS, "code": "teleexpertise_opinion"},
            ]
        },
    )

    response = api.post("DocumentReference", body, personas.treating_doctor)

    assert response.status_code == 201
    assert Document.objects.get().type == "teleexpertise_opinion"


def test_it_checks_the_sha1_hash_and_the_size_when_given(api, personas):
    good = _body(personas.patient)
    good["content"][0]["attachment"]["hash"] = base64.b64encode(hashlib.sha1(PDF).digest()).decode()  # noqa: S324
    good["content"][0]["attachment"]["size"] = len(PDF)
    bad = _body(personas.patient)
    bad["content"][0]["attachment"]["hash"] = base64.b64encode(hashlib.sha1(b"x").digest()).decode()  # noqa: S324
    bad["content"][0]["attachment"]["size"] = len(PDF) - 1

    refused = api.post("DocumentReference", bad, personas.treating_doctor)
    accepted = api.post("DocumentReference", good, personas.treating_doctor)

    assert refused.status_code == 400
    assert sorted(_expressions(refused)) == [
        "DocumentReference.content[0].attachment.hash",
        "DocumentReference.content[0].attachment.size",
    ]
    assert accepted.status_code == 201


@pytest.mark.parametrize(
    ("changes", "expression"),
    [
        ({"subject": None}, "DocumentReference.subject"),
        (
            {"subject": {"reference": "Practitioner/3f2b1c9e-0000-4000-8000-000000000000"}},
            "DocumentReference.subject",
        ),
        ({"type": None}, "DocumentReference.type"),
        ({"type": {"coding": [{"system": OURS, "code": "poem"}]}}, "DocumentReference.type"),
        (
            {"description": None, "content": [{"attachment": {"data": "JVBERi0xLjQK"}}]},
            "DocumentReference.description",
        ),
        ({"description": "x" * 201}, "DocumentReference.description"),
        ({"status": "superseded"}, "DocumentReference.status"),
        (
            {"context": {"period": {"start": "2999-01-01"}}},
            "DocumentReference.context.period.start",
        ),
        ({"context": None, "date": "2026-11"}, "DocumentReference.date"),
        (
            {"content": [{"attachment": {"url": "https://example.org/cr.pdf"}}]},
            "DocumentReference.content[0].attachment.data",
        ),
        ({"content": [{"attachment": {"data": "JVBERi0xLjQK"}}] * 11}, "DocumentReference.content"),
        (
            {"relatesTo": [{"code": "replaces", "target": {"reference": "DocumentReference/x"}}]},
            "DocumentReference.relatesTo",
        ),
        (
            {"securityLabel": [{"coding": [{"system": VISIBILITY, "code": "MASQUE_PT"}]}]},
            "DocumentReference.securityLabel[0].coding[0]",
        ),
        ({"colour": "blue"}, "DocumentReference.colour"),
    ],
)
def test_it_refuses_what_a_document_cannot_hold(api, personas, changes, expression):
    body = {k: v for k, v in _body(personas.patient, **changes).items() if v is not None}

    response = api.post("DocumentReference", body, personas.treating_doctor)

    assert response.status_code == 400
    assert expression in _expressions(response)
    assert not Document.objects.exists()


def test_it_takes_a_date_time_as_the_day_of_the_document(api, personas):
    body = _body(personas.patient, context=None, date="2026-11-02T23:30:00+00:00")
    del body["context"]

    response = api.post("DocumentReference", body, personas.treating_doctor)

    assert response.status_code == 201
    # 23:30 UTC is the next day in Paris.
    assert Document.objects.get().date == dt.date(2026, 11, 3)


def test_it_refuses_a_body_that_is_not_json(api, personas):
    response = api.post("DocumentReference", "{oops", personas.treating_doctor)

    assert response.status_code == 400
    assert issues(response)[0]["code"] == "structure"
