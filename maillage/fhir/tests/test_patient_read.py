from __future__ import annotations

import uuid

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.systems import (
    BIRTH_PLACE_EXTENSION,
    IDENTITY_RELIABILITY_EXTENSION,
    INSEE_CODE_EXTENSION,
)
from maillage.fhir.tests.conftest import extension, fhir_json, issues
from maillage.patients.models import IdentityDocument, InsKind
from maillage.testing import factories as f


def _status(resource):
    reliability = extension(resource, IDENTITY_RELIABILITY_EXTENSION)
    (status,) = reliability["extension"]
    assert status["url"] == "identityStatus"
    assert status["valueCoding"]["system"] == (
        "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status"
    )
    return status["valueCoding"]["code"]


def _qualify(patient, kind=InsKind.NIR):
    patient.retrieved_from_insi = True
    patient.identity_document = IdentityDocument.PASSPORT
    patient.ins_kind = kind
    patient.save()


def test_it_reads_the_patient_for_her_treating_doctor_and_audits_it(api, personas):
    patient = personas.patient

    response = api.get(f"Patient/{patient.uuid}", personas.treating_doctor)

    assert response.status_code == 200
    resource = fhir_json(response)
    assert resource["id"] == str(patient.uuid)
    assert resource["meta"]["profile"] == [
        "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient"
    ]
    assert resource["name"] == [{"use": "official", "family": "GIRARD", "given": ["Micheline"]}]
    assert resource["gender"] == "female"
    assert resource["birthDate"] == "1948-03-14"
    assert resource["generalPractitioner"][0]["reference"] == (
        f"Practitioner/{personas.treating_doctor.uuid}"
    )
    assert resource["address"][0]["city"] == "Sancoins"
    assert extension(resource["address"][0], INSEE_CODE_EXTENSION)["valueCoding"]["code"] == "18242"
    assert _status(resource) == "PROV"
    entry = AuditEntry.objects.get(action=Action.PATIENT_READ)
    assert entry.outcome == Outcome.GRANTED
    assert entry.patient == patient
    assert entry.actor == personas.treating_doctor.user
    assert entry.basis == "treating_doctor"
    assert entry.channel == "fhir"


def test_it_answers_404_to_a_professional_without_link_and_audits_the_refusal(api, personas):
    response = api.get(f"Patient/{personas.patient.uuid}", personas.cardiologist)

    assert response.status_code == 404
    assert issues(response)[0]["code"] == "not-found"
    entry = AuditEntry.objects.get(action=Action.PATIENT_READ)
    assert entry.outcome == Outcome.DENIED
    assert entry.patient == personas.patient
    assert entry.actor == personas.cardiologist.user
    assert entry.channel == "fhir"


def test_it_lets_the_patient_read_her_own_record(api, personas):
    response = api.get(f"Patient/{personas.patient.uuid}", personas.patient_user)

    assert response.status_code == 200
    assert AuditEntry.objects.get(action=Action.PATIENT_READ).basis == "self"


@pytest.mark.parametrize("who", ["analyst", "admin", "stranger_coordinator"])
def test_it_answers_404_to_roles_without_access(api, personas, who):
    response = api.get(f"Patient/{personas.patient.uuid}", personas.user(who))

    assert response.status_code == 404
    assert AuditEntry.objects.get(action=Action.PATIENT_READ).outcome == Outcome.DENIED


def test_it_answers_404_to_an_unknown_id_and_audits_it(api, personas):
    unknown = uuid.uuid4()

    response = api.get(f"Patient/{unknown}", personas.treating_doctor)

    assert response.status_code == 404
    entry = AuditEntry.objects.get(action=Action.PATIENT_READ)
    assert entry.outcome == Outcome.DENIED
    assert entry.patient is None
    assert entry.detail == {"unknown_id": str(unknown)}


def test_it_answers_404_to_an_id_that_is_not_ours(api, personas):
    response = api.get("Patient/not-a-uuid", personas.treating_doctor)

    assert response.status_code == 404
    assert AuditEntry.objects.get(action=Action.PATIENT_READ).outcome == Outcome.DENIED


def test_it_leaves_the_ins_out_of_an_identity_that_is_not_qualified(api, personas):
    patient = personas.patient
    patient.retrieved_from_insi = True  # RECUP: not checked on a document
    patient.save()

    resource = fhir_json(api.get(f"Patient/{patient.uuid}", personas.treating_doctor))

    assert _status(resource) == "RECUP"
    assert "identifier" not in resource


def test_it_sends_the_ins_of_a_qualified_identity_under_the_test_system(api, personas, settings):
    settings.MAILLAGE_INS_ENVIRONMENT = "test"
    patient = personas.patient
    _qualify(patient)

    resource = fhir_json(api.get(f"Patient/{patient.uuid}", personas.treating_doctor))

    assert _status(resource) == "QUAL"
    assert resource["identifier"] == [
        {
            "use": "official",
            "type": {
                "coding": [
                    {
                        "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
                        "code": "INS-NIR-TEST",
                    }
                ]
            },
            "system": "urn:oid:1.2.250.1.213.1.4.10",
            "value": patient.ins_matricule,
        }
    ]


@pytest.mark.parametrize(
    ("environment", "kind", "system", "use"),
    [
        ("production", InsKind.NIR, "urn:oid:1.2.250.1.213.1.4.8", "official"),
        ("production", InsKind.NIA, "urn:oid:1.2.250.1.213.1.4.9", "temp"),
        ("demo", InsKind.NIR, "urn:oid:1.2.250.1.213.1.4.11", "official"),
    ],
)
def test_it_sends_the_ins_under_the_system_of_the_environment(
    api, personas, settings, environment, kind, system, use
):
    settings.MAILLAGE_INS_ENVIRONMENT = environment
    _qualify(personas.patient, kind)

    resource = fhir_json(api.get(f"Patient/{personas.patient.uuid}", personas.treating_doctor))

    (identifier,) = resource["identifier"]
    assert (identifier["system"], identifier["use"]) == (system, use)


def test_it_maps_birth_place_usual_name_and_telecom(api, personas):
    patient = f.patient(
        "MARTIN",
        "Jean Pierre",
        birth_given_names="Jean Pierre Louis",
        sex="M",
        followed_by=(personas.msp,),
        birthplace_code="18033",
        used_name="DUVAL",
        used_given_name="JP",
        phone="0248000000",
        email="jp@example.org",
        address_line="2 place de l'Église",
        commune=f.commune("18033"),
    )

    resource = fhir_json(api.get(f"Patient/{patient.uuid}", personas.nurse))

    assert resource["name"] == [
        {"use": "official", "family": "MARTIN", "given": ["Jean Pierre", "Louis"]},
        {"use": "usual", "family": "DUVAL", "given": ["JP"]},
    ]
    assert resource["gender"] == "male"
    place = extension(resource, BIRTH_PLACE_EXTENSION)["valueAddress"]
    assert extension(place, INSEE_CODE_EXTENSION)["valueCoding"]["code"] == "18033"
    assert resource["telecom"] == [
        {"system": "phone", "value": "0248000000"},
        {"system": "email", "value": "jp@example.org"},
    ]
    assert resource["address"][0]["line"] == ["2 place de l'Église"]
    assert resource["address"][0]["city"] == "Bourges"
    assert "generalPractitioner" not in resource
