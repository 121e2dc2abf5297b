from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.systems import BIRTH_PLACE_EXTENSION, INSEE_CODE_EXTENSION
from maillage.fhir.tests.conftest import fhir_json, issues
from maillage.lib.ins import MatriculeProblem
from maillage.patients.identity import matricule_message
from maillage.patients.models import Patient
from maillage.testing import factories as f

BIRTH = dt.date(1960, 5, 2)
TEST_INS = "urn:oid:1.2.250.1.213.1.4.10"


def _body(**changes):
    body = {
        "resourceType": "Patient",
        "identifier": [{"system": TEST_INS, "value": f.matricule("M", BIRTH, "18033", order=42)}],
        "name": [
            {"use": "official", "family": "Durand", "given": ["Paul", "Henri"]},
            {"use": "usual", "family": "Dupré", "given": ["Polo"]},
        ],
        "telecom": [
            {"system": "phone", "value": "0612345678"},
            {"system": "email", "value": "paul.durand@example.org"},
        ],
        "gender": "male",
        "birthDate": BIRTH.isoformat(),
        "extension": [
            {
                "url": BIRTH_PLACE_EXTENSION,
                "valueAddress": {
                    "city": "Bourges",
                    "extension": [{"url": INSEE_CODE_EXTENSION, "valueCoding": {"code": "18033"}}],
                },
            }
        ],
        "address": [{"use": "home", "line": ["3 rue des Tilleuls"], "city": "Sancoins"}],
    }
    body.update(changes)
    return body


def _expressions(response):
    return [e for issue in issues(response) for e in issue.get("expression", [])]


def test_it_creates_a_patient(api, personas):
    doctor = personas.treating_doctor
    body = _body(generalPractitioner=[{"reference": f"Practitioner/{doctor.uuid}"}])

    response = api.post("Patient", body, doctor)

    assert response.status_code == 201
    resource = fhir_json(response)
    patient = Patient.objects.get(uuid=resource["id"])
    assert response["Location"] == f"http://testserver/fhir/r4/Patient/{patient.uuid}"
    assert (patient.birth_name, patient.first_birth_given_name, patient.birth_given_names) == (
        "Durand",
        "Paul",
        "Paul Henri",
    )
    assert (patient.used_name, patient.used_given_name) == ("Dupré", "Polo")
    assert (patient.sex, patient.birth_date, patient.birthplace_code) == ("M", BIRTH, "18033")
    assert patient.ins_matricule == body["identifier"][0]["value"]
    assert (patient.phone, patient.email) == ("0612345678", "paul.durand@example.org")
    assert patient.treating_doctor == doctor
    assert patient.commune is not None
    assert patient.commune.insee_code == "18242"
    assert patient.address_line == "3 rue des Tilleuls"
    assert list(patient.followed_by.all()) == [personas.msp]
    assert patient.identity_status.value == "PROV"
    # A provisional identity: the matricule is kept but not sent back.
    assert "identifier" not in resource
    entry = AuditEntry.objects.get(action=Action.PATIENT_CREATE)
    assert (entry.outcome, entry.patient, entry.actor) == (Outcome.GRANTED, patient, doctor.user)
    assert entry.channel == "fhir"


def test_it_creates_a_patient_with_the_traits_only(api, personas):
    body = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Petit", "given": ["Lucie"]}],
        "gender": "female",
        "birthDate": "2001-09-30",
    }

    response = api.post("Patient", body, personas.coordinator)

    assert response.status_code == 201
    patient = Patient.objects.get(birth_name="Petit")
    assert patient.ins_matricule is None
    assert patient.commune is None


def test_it_refuses_a_matricule_with_a_wrong_key(api, personas):
    body = _body()
    good = body["identifier"][0]["value"]
    body["identifier"][0]["value"] = good[:13] + f"{int(good[13:]) % 97 + 1:02d}"

    response = api.post("Patient", body, personas.treating_doctor)

    assert response.status_code == 400
    (issue,) = issues(response)
    assert issue["code"] == "invalid"
    assert issue["expression"] == ["Patient.identifier[0].value"]
    with translation.override("fr"):
        assert issue["diagnostics"] == matricule_message(MatriculeProblem.KEY)
    assert not Patient.objects.filter(birth_name="Durand").exists()


@pytest.mark.parametrize(
    ("environment", "system"),
    [
        ("test", "urn:oid:1.2.250.1.213.1.4.8"),
        ("test", "urn:oid:1.2.250.1.213.1.4.11"),
        ("production", TEST_INS),
        ("demo", TEST_INS),
    ],
)
def test_it_refuses_an_ins_system_of_another_environment(
    api, personas, settings, environment, system
):
    settings.MAILLAGE_INS_ENVIRONMENT = environment
    body = _body()
    body["identifier"][0]["system"] = system

    response = api.post("Patient", body, personas.treating_doctor)

    assert response.status_code == 400
    (issue,) = issues(response)
    assert issue["code"] == "code-invalid"
    assert issue["expression"] == ["Patient.identifier[0].system"]
    assert not Patient.objects.filter(birth_name="Durand").exists()


def test_it_takes_a_nia_in_production(api, personas, settings):
    settings.MAILLAGE_INS_ENVIRONMENT = "production"
    body = _body()
    body["identifier"][0]["system"] = "urn:oid:1.2.250.1.213.1.4.9"

    response = api.post("Patient", body, personas.treating_doctor)

    assert response.status_code == 201
    assert Patient.objects.get(birth_name="Durand").ins_kind == "NIA"


@pytest.mark.parametrize(
    ("body", "expression"),
    [
        ({"resourceType": "Patient", "birthDate": "1948-13-40"}, "Patient.birthDate"),
        ({"resourceType": "Patient", "colour": "blue"}, "Patient.colour"),
        ({"resourceType": "Patient", "name": "Durand"}, "Patient.name"),
        ({"resourceType": "Patient", "name": [{"given": "Paul"}]}, "Patient.name[0].given"),
        ({"resourceType": "Practitioner"}, "resourceType"),
        ({"resourceType": "Patient", "contained": [{"resourceType": "Foo"}]}, "Patient"),
        ({"name": []}, "resourceType"),
    ],
)
def test_it_refuses_an_invalid_resource(api, personas, body, expression):
    response = api.post("Patient", body, personas.treating_doctor)

    assert response.status_code == 400
    assert expression in _expressions(response)
    assert not AuditEntry.objects.filter(action=Action.PATIENT_CREATE).exists()


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"Patient"', '{"a": NaN}', "\xff"])
def test_it_refuses_a_body_that_is_not_a_json_object(api, personas, raw):
    response = api.post("Patient", raw.encode("latin-1"), personas.treating_doctor)

    assert response.status_code == 400
    assert issues(response)[0]["code"] == "structure"


@pytest.mark.parametrize(
    ("changes", "expression"),
    [
        ({"name": [{"use": "usual", "family": "Durand", "given": ["Paul"]}]}, "Patient.name"),
        ({"name": [{"use": "official", "given": ["Paul"]}]}, "Patient.name[0].family"),
        ({"name": [{"use": "official", "family": "Durand"}]}, "Patient.name[0].given"),
        (
            {"name": [{"use": "official", "family": "D" * 101, "given": ["Paul"]}]},
            "Patient.name[0].family",
        ),
        ({"gender": "other"}, "Patient.gender"),
        ({"gender": None}, "Patient.gender"),
        ({"birthDate": "1960"}, "Patient.birthDate"),
        ({"birthDate": None}, "Patient.birthDate"),
        ({"telecom": [{"system": "email", "value": "not an address"}]}, "Patient.telecom[0].value"),
        ({"telecom": [{"system": "phone", "value": "0" * 21}]}, "Patient.telecom[0].value"),
    ],
)
def test_it_refuses_what_an_identity_cannot_hold(api, personas, changes, expression):
    body = {k: v for k, v in _body(**changes).items() if v is not None}

    response = api.post("Patient", body, personas.treating_doctor)

    assert response.status_code == 400
    assert expression in _expressions(response)
    assert not Patient.objects.filter(birth_name="Durand").exists()


@pytest.mark.parametrize(
    "reference",
    [
        "Organization/1",
        "Practitioner/3f2b1c9e-0000-4000-8000-000000000000",
        "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999967496",
        "nurse",
    ],
)
def test_it_does_not_record_another_reference_as_treating_doctor(api, personas, reference):
    if reference == "nurse":
        reference = f"Practitioner/{personas.nurse.uuid}"
    body = _body(generalPractitioner=[{"reference": reference}])

    response = api.post(
        "Patient", body, personas.treating_doctor, HTTP_PREFER="return=OperationOutcome"
    )

    assert response.status_code == 201
    warnings = [
        i
        for i in issues(response)
        if i["severity"] == "warning" and "generalPractitioner" in i["expression"][0]
    ]
    assert [w["expression"] for w in warnings] == [["Patient.generalPractitioner[0]"]]
    assert "médecin traitant" in warnings[0]["diagnostics"]
    assert Patient.objects.get(birth_name="Durand").treating_doctor is None


def test_it_records_one_treating_doctor_and_names_the_others(api, personas):
    doctor = personas.treating_doctor
    body = _body(
        generalPractitioner=[
            {"reference": f"Practitioner/{doctor.uuid}"},
            {"reference": f"Practitioner/{personas.cardiologist.uuid}"},
        ]
    )

    response = api.post("Patient", body, doctor, HTTP_PREFER="return=OperationOutcome")

    assert response.status_code == 201
    assert [e for e in _expressions(response) if "generalPractitioner" in e] == [
        "Patient.generalPractitioner[1]"
    ]
    assert Patient.objects.get(birth_name="Durand").treating_doctor == doctor


def test_it_points_identity_rules_at_the_elements(api, personas):
    body = _body(gender="female", birthDate=(dt.date.today() + dt.timedelta(days=2)).isoformat())

    response = api.post("Patient", body, personas.treating_doctor)

    assert response.status_code == 400
    expressions = _expressions(response)
    assert "Patient.birthDate" in expressions  # in the future
    assert "Patient.gender" in expressions  # the matricule says male


def test_it_answers_409_to_a_duplicate_matricule(api, personas):
    existing = personas.patient
    body = _body(
        gender="female",
        birthDate=existing.birth_date.isoformat(),
        name=[{"use": "official", "family": "Girard", "given": ["Michelle"]}],
        identifier=[{"system": TEST_INS, "value": existing.ins_matricule}],
    )
    del body["extension"]
    before = Patient.objects.count()

    response = api.post("Patient", body, personas.cardiologist)

    assert response.status_code == 409
    found = issues(response)
    assert found[0]["code"] == "duplicate"
    assert found[0]["expression"] == ["Patient.identifier[0].value"]
    # Typing her matricule proves identity vigilance: she is shown, and audited.
    assert found[1]["severity"] == "information"
    assert f"Patient/{existing.uuid}" in found[1]["diagnostics"]
    review = AuditEntry.objects.get(action=Action.DUPLICATE_REVIEW)
    assert (review.patient, review.outcome) == (existing, Outcome.GRANTED)
    assert Patient.objects.count() == before


def test_it_answers_409_to_the_same_strict_traits(api, personas):
    existing = personas.patient
    body = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Girard", "given": ["Micheline"]}],
        "gender": "female",
        "birthDate": existing.birth_date.isoformat(),
    }

    response = api.post("Patient", body, personas.coordinator)

    assert response.status_code == 409
    found = issues(response)
    assert found[0]["code"] == "duplicate"
    assert f"Patient/{existing.uuid}" in found[1]["diagnostics"]


def test_it_answers_403_to_a_role_that_may_not_create_and_audits_it(api, personas):
    response = api.post("Patient", _body(), personas.analyst)

    assert response.status_code == 403
    assert issues(response)[0]["code"] == "forbidden"
    entry = AuditEntry.objects.get(action=Action.PATIENT_CREATE)
    assert (entry.outcome, entry.actor, entry.patient) == (Outcome.DENIED, personas.analyst, None)
    assert not Patient.objects.filter(birth_name="Durand").exists()


def test_it_answers_403_before_reading_the_body(api, personas):
    response = api.post("Patient", "{not json", personas.patient_user)

    assert response.status_code == 403
