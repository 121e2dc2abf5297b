from __future__ import annotations

import base64
import hashlib
import uuid

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.systems import SHA256_EXTENSION
from maillage.fhir.tests.conftest import PDF, document, extension, fhir_json, in_care_team, issues
from maillage.records import actions
from maillage.records.actions import NewDocument, Upload
from maillage.records.models import DocumentStatus
from maillage.testing import factories as f

pytestmark = pytest.mark.usefixtures("private_files")

VISIBILITY = (
    "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/"
    "TRE-A07-StatutVisibiliteDocument"
)
OURS = "https://maillage.example/fhir/CodeSystem/document-type"


def _labels(resource):
    return [c["code"] for label in resource.get("securityLabel", []) for c in label["coding"]]


def test_it_reads_a_document_for_the_treating_doctor_and_audits_it(api, personas):
    doc = document(personas.treating_doctor, personas.patient)

    response = api.get(f"DocumentReference/{doc.uuid}", personas.treating_doctor)

    assert response.status_code == 200
    resource = fhir_json(response)
    assert resource["id"] == str(doc.uuid)
    assert resource["status"] == "current"
    assert resource["docStatus"] == "final"
    assert resource["type"]["coding"] == [
        {"system": "http://loinc.org", "code": "85208-7", "display": "CR de télémédecine"},
        {
            "system": OURS,
            "code": "teleconsultation_report",
            "display": "Compte rendu de téléconsultation",
        },
    ]
    assert resource["subject"] == {"reference": f"Patient/{personas.patient.uuid}"}
    assert resource["author"] == [
        {
            "reference": f"Practitioner/{personas.treating_doctor.uuid}",
            "display": "Claire Morel",
        }
    ]
    assert resource["description"] == "Compte rendu"
    assert resource["context"]["period"]["start"] == "2026-11-02"
    assert "securityLabel" not in resource
    (content,) = resource["content"]
    stored = doc.document_files.get().file
    attachment = content["attachment"]
    assert attachment["url"] == f"http://testserver/fhir/r4/Binary/{stored.uuid}"
    assert attachment["contentType"] == "application/pdf"
    assert attachment["size"] == len(PDF)
    assert attachment["title"] == "compte-rendu.pdf"
    # Not read for a DocumentReference: no SHA-1, our SHA-256 in an extension.
    assert "hash" not in attachment
    sha256 = extension(attachment, SHA256_EXTENSION)["valueBase64Binary"]
    assert base64.b64decode(sha256) == hashlib.sha256(PDF).digest()
    entry = AuditEntry.objects.get(action=Action.DOCUMENT_READ)
    assert (entry.outcome, entry.patient, entry.basis) == (
        Outcome.GRANTED,
        personas.patient,
        "treating_doctor",
    )
    assert entry.detail == {"document": str(doc.uuid), "type": "teleconsultation_report"}
    assert entry.channel == "fhir"


def test_it_reads_a_document_for_a_care_team_member(api, personas):
    in_care_team(personas.nurse, personas.patient)
    doc = document(personas.treating_doctor, personas.patient, "lab_results")

    response = api.get(f"DocumentReference/{doc.uuid}", personas.nurse)

    assert response.status_code == 200
    resource = fhir_json(response)
    assert resource["type"]["coding"][0]["code"] == "11502-2"
    assert AuditEntry.objects.get(action=Action.DOCUMENT_READ).basis == "care_team"


def test_it_labels_a_masked_document_for_the_treating_doctor_who_still_sees_it(api, personas):
    in_care_team(personas.nurse, personas.patient)
    doc = document(personas.nurse, personas.patient, "photo")
    actions.mask_document(personas.patient_user, doc)
    other_nurse = f.professional("infirmier.2", last_name="Petit", profession="60")
    in_care_team(other_nurse, personas.patient)

    seen = fhir_json(api.get(f"DocumentReference/{doc.uuid}", personas.treating_doctor))
    by_author = fhir_json(api.get(f"DocumentReference/{doc.uuid}", personas.nurse))
    refused = api.get(f"DocumentReference/{doc.uuid}", other_nurse)

    assert _labels(seen) == ["MASQUE_PS"]
    assert seen["securityLabel"][0]["coding"][0]["system"] == VISIBILITY
    assert _labels(by_author) == ["MASQUE_PS"]
    assert refused.status_code == 404


def test_it_labels_what_the_author_hid(api, personas):
    doc = document(
        personas.treating_doctor,
        personas.patient,
        hidden_from_patient=True,
        hidden_from_legal_representatives=True,
    )

    resource = fhir_json(api.get(f"DocumentReference/{doc.uuid}", personas.treating_doctor))
    by_patient = api.get(f"DocumentReference/{doc.uuid}", personas.patient_user)

    assert _labels(resource) == ["INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX"]
    assert by_patient.status_code == 404


def test_it_lets_the_patient_read_her_document(api, personas):
    doc = document(personas.treating_doctor, personas.patient)

    response = api.get(f"DocumentReference/{doc.uuid}", personas.patient_user)

    assert response.status_code == 200
    assert AuditEntry.objects.get(action=Action.DOCUMENT_READ).basis == "self"


def test_it_answers_404_to_an_outsider_and_audits_the_refusal(api, personas):
    doc = document(personas.treating_doctor, personas.patient)

    response = api.get(f"DocumentReference/{doc.uuid}", personas.cardiologist)

    assert response.status_code == 404
    assert issues(response)[0]["code"] == "not-found"
    entry = AuditEntry.objects.get(action=Action.DOCUMENT_READ)
    assert (entry.outcome, entry.patient, entry.actor) == (
        Outcome.DENIED,
        personas.patient,
        personas.cardiologist.user,
    )
    assert entry.detail["document"] == str(doc.uuid)


@pytest.mark.parametrize("who", ["coordinator", "analyst", "admin", "social_worker"])
def test_it_answers_404_to_roles_that_do_not_read_documents(api, personas, who):
    doc = document(personas.treating_doctor, personas.patient)

    response = api.get(f"DocumentReference/{doc.uuid}", personas.user(who))

    assert response.status_code == 404
    assert AuditEntry.objects.get(action=Action.DOCUMENT_READ).outcome == Outcome.DENIED


def test_it_answers_404_to_an_unknown_id_and_audits_it(api, personas):
    unknown = uuid.uuid4()

    response = api.get(f"DocumentReference/{unknown}", personas.treating_doctor)

    assert response.status_code == 404
    entry = AuditEntry.objects.get(action=Action.DOCUMENT_READ)
    assert (entry.outcome, entry.patient, entry.detail) == (
        Outcome.DENIED,
        None,
        {"unknown_id": str(unknown)},
    )


def test_it_links_a_new_version_to_the_one_it_replaces(api, personas):
    doctor = personas.treating_doctor
    old = document(doctor, personas.patient)
    new = actions.replace_document(
        doctor.user,
        old,
        NewDocument("teleconsultation_report", "Compte rendu corrigé", old.date),
        [Upload("v2.pdf", PDF)],
    )

    newer = fhir_json(api.get(f"DocumentReference/{new.uuid}", doctor))
    older = fhir_json(api.get(f"DocumentReference/{old.uuid}", doctor))

    assert newer["relatesTo"] == [
        {"code": "replaces", "target": {"reference": f"DocumentReference/{old.uuid}"}}
    ]
    assert older["status"] == "superseded"


def test_it_shows_a_withdrawn_document_as_entered_in_error_to_the_treating_doctor(api, personas):
    doctor = personas.treating_doctor
    doc = document(doctor, personas.patient)
    actions.withdraw_document(doctor.user, doc, "Mauvais patient")
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.WITHDRAWN

    resource = fhir_json(api.get(f"DocumentReference/{doc.uuid}", doctor))

    assert resource["status"] == "entered-in-error"


def test_it_names_an_author_without_directory_entry_by_display(api, personas):
    in_care_team(personas.nurse, personas.patient)
    doc = document(personas.regulator, personas.patient, "emergency_liaison")

    resource = fhir_json(api.get(f"DocumentReference/{doc.uuid}", personas.treating_doctor))

    assert resource["author"] == [{"display": personas.regulator.display_name}]
    assert resource["type"]["coding"][0]["code"] == "74207-2"


def test_it_codes_a_sound_with_our_code_system_only(api, personas):
    doc = document(personas.treating_doctor, personas.patient, "sound")

    resource = fhir_json(api.get(f"DocumentReference/{doc.uuid}", personas.treating_doctor))

    assert [c["system"] for c in resource["type"]["coding"]] == [OURS]
