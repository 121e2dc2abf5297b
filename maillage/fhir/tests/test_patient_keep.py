"""No silent loss on Patient create: what is received is kept as sent, or named in a warning.

Round trips with a Synthea Patient and the HL7 example: what was created reads back
the same, field by field; what is not kept is named, in the Warning header, in the
OperationOutcome a client may prefer, and in the audit entry (paths, no values).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from maillage.audit.models import Action, AuditEntry
from maillage.fhir.systems import (
    IDENTITY_RELIABILITY_EXTENSION,
    IDENTITY_STATUS_SYSTEM,
    INSEE_CODE_EXTENSION,
)
from maillage.fhir.tests.conftest import fhir_json, issues
from maillage.patients import actions
from maillage.patients.details import PatientDetails, details_of
from maillage.patients.identity import IdentityInput
from maillage.patients.models import Patient, PatientAddress, PatientIdentifier
from maillage.testing import factories as f

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
SYNTHEA = sorted((DATA / "synthea").glob("*.json"))
HL7_PATIENT = DATA / "fhir_examples" / "Patient-example.json"
NIR_TEST = "urn:oid:1.2.250.1.213.1.4.10"


def _synthea_patient(index: int = 0) -> dict[str, Any]:
    bundle = json.loads(SYNTHEA[index].read_text())
    return next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )


def _hl7_patient() -> dict[str, Any]:
    return json.loads(HL7_PATIENT.read_text())


def _warned(response: Any) -> list[str]:
    return [e for i in issues(response) if i["severity"] == "warning" for e in i["expression"]]


def _created(api: Any, personas: Any, body: dict[str, Any], **extra: Any) -> Any:
    response = api.post("Patient", body, personas.treating_doctor, **extra)
    assert response.status_code == 201, response.content
    return response


def _read(api: Any, personas: Any, response: Any) -> dict[str, Any]:
    patient_id = response["Location"].rsplit("/", 1)[-1]
    read = api.get(f"Patient/{patient_id}", personas.treating_doctor)
    assert read.status_code == 200
    return fhir_json(read)


def test_a_synthea_patient_reads_back_as_it_was_sent(api, personas):
    sent = _synthea_patient()

    response = _created(api, personas, copy.deepcopy(sent))
    read = _read(api, personas, response)

    assert read["identifier"] == sent["identifier"]
    # As sent, but the geolocation extension (named in a warning).
    assert read["address"] == [
        {k: v for k, v in a.items() if k != "extension"} for a in sent["address"]
    ]
    assert read["address"][0]["country"] == "US"
    assert read["address"][0]["state"] == sent["address"][0]["state"]
    assert read["address"][0]["postalCode"] == sent["address"][0]["postalCode"]
    assert read["address"][0]["city"] == sent["address"][0]["city"]
    assert read["telecom"] == sent["telecom"]
    assert read["birthDate"] == sent["birthDate"]
    assert read["gender"] == sent["gender"]
    for element in ("maritalStatus", "communication", "multipleBirthBoolean"):
        assert read[element] == sent[element]
    official = next(n for n in read["name"] if n["use"] == "official")
    sent_official = next(n for n in sent["name"] if n["use"] == "official")
    assert (official["family"], official["given"]) == (
        sent_official["family"],
        sent_official["given"],
    )


@pytest.mark.parametrize("index", range(len(SYNTHEA)))
def test_every_synthea_patient_is_kept_or_warned(api, personas, index):
    sent = _synthea_patient(index)

    response = _created(api, personas, copy.deepcopy(sent), HTTP_PREFER="return=OperationOutcome")

    warned = _warned(response)
    # Nothing dropped without a word: each element we do not hold is named.
    assert "Patient.text" in warned
    for element in ("maritalStatus", "communication", "multipleBirthBoolean"):
        assert f"Patient.{element}" not in warned
    assert "Patient.meta.tag" in warned
    for position, extension in enumerate(sent.get("extension", [])):
        if not extension["url"].endswith("patient-birthPlace"):
            assert f"Patient.extension[{position}]" in warned
    # The geolocation of the address, which we do not hold.
    assert "Patient.address[0].extension[0]" in warned
    patient = Patient.objects.get(uuid=response["Location"].rsplit("/", 1)[-1])
    assert patient.ins_matricule is None  # a foreign identifier never becomes an INS
    assert [i.value for i in patient.other_identifiers.all()] == [
        i["value"] for i in sent["identifier"]
    ]


def test_the_warnings_are_in_the_header_and_the_audit_entry(api, personas):
    sent = _synthea_patient()

    response = _created(api, personas, sent)

    assert response["Warning"].startswith('299 maillage "Not kept: ')
    assert "Patient.meta.tag" in response["Warning"]
    assert response.json()["resourceType"] == "Patient"
    entry = AuditEntry.objects.get(action=Action.PATIENT_CREATE)
    assert "Patient.meta.tag" in entry.detail["not_kept"]
    # Paths only: no value of the resource in the trail.
    assert sent["identifier"][2]["value"] not in json.dumps(entry.detail)


def test_the_hl7_example_keeps_its_identifier_address_and_telecoms(api, personas):
    sent = _hl7_patient()

    response = _created(api, personas, copy.deepcopy(sent), HTTP_PREFER="return=OperationOutcome")
    read = _read(api, personas, response)

    assert read["identifier"] == [
        {k: v for k, v in sent["identifier"][0].items() if k not in ("period", "assigner")}
    ]
    assert read["address"] == [{k: v for k, v in sent["address"][0].items() if k != "period"}]
    assert [t for t in read["telecom"]] == [
        {k: v for k, v in t.items() if k != "period"} for t in sent["telecom"] if "value" in t
    ]
    assert read["deceasedBoolean"] is False
    (contact,) = read["contact"]
    sent_contact = sent["contact"][0]
    assert contact["relationship"] == sent_contact["relationship"]
    assert contact["name"] == {"family": "du Marché", "given": ["Bénédicte"]}
    assert contact["telecom"] == sent_contact["telecom"]
    assert contact["address"] == {k: v for k, v in sent_contact["address"].items() if k != "period"}
    assert contact["gender"] == "female"
    assert "managingOrganization" not in read  # Organization/1 is not one of ours
    warned = _warned(response)
    assert sorted(warned) == sorted(
        [
            "Patient.text",
            "Patient.active",  # every record here is active: not an element it holds
            "Patient.identifier[0].period",
            "Patient.identifier[0].assigner",
            "Patient.name[2]",
            "Patient.telecom[0]",
            "Patient.telecom[3].period",
            "Patient.birthDate.extension",
            "Patient.address[0].period",
            "Patient.contact[0].name.family.extension",
            "Patient.contact[0].address.period",
            "Patient.contact[0].period",
            "Patient.managingOrganization",
        ]
    )
    diagnostics = {i["diagnostics"] for i in issues(response) if i["severity"] == "warning"}
    assert "Cet élément a été reçu mais n'est pas conservé par ce serveur." in diagnostics


def test_a_french_address_links_its_commune_and_keeps_what_was_sent(api, personas):
    body = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Lenoir", "given": ["Anne"]}],
        "gender": "female",
        "birthDate": "1980-01-02",
        "address": [
            {
                "use": "home",
                "line": ["3 rue des Tilleuls", "Bâtiment B"],
                "city": "Sancoins",
                "postalCode": "18600",
                "country": "FR",
            }
        ],
    }

    response = _created(api, personas, copy.deepcopy(body))
    read = _read(api, personas, response)

    patient = Patient.objects.get(birth_name="Lenoir")
    assert patient.commune is not None and patient.commune.insee_code == "18242"
    assert patient.address_line == "3 rue des Tilleuls, Bâtiment B"
    (address,) = read["address"]
    assert address["extension"] == [
        {
            "url": INSEE_CODE_EXTENSION,
            "valueCoding": {
                "system": address["extension"][0]["valueCoding"]["system"],
                "code": "18242",
            },
        }
    ]
    assert {k: v for k, v in address.items() if k != "extension"} == body["address"][0]
    assert "Warning" not in response


def test_a_foreign_city_is_never_taken_for_a_commune(api, personas):
    body = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Smith", "given": ["Ann"]}],
        "gender": "female",
        "birthDate": "1980-01-02",
        "address": [{"line": ["1 Main St"], "city": "Sancoins", "country": "US"}],
    }

    response = _created(api, personas, copy.deepcopy(body))

    patient = Patient.objects.get(birth_name="Smith")
    assert patient.commune is None
    assert _read(api, personas, response)["address"] == body["address"]


@pytest.mark.parametrize(
    "identifier",
    [
        {"system": "urn:oid:1.2.250.1.213.1.4.8.1", "value": "123"},
        {"system": "1.2.250.1.213.1.4.8", "value": "123"},
        {
            "system": "http://hospital.example.org/mrn",
            "value": "160059918012345",
            "type": {
                "coding": [
                    {
                        "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
                        "code": "INS-NIR",
                    }
                ]
            },
        },
    ],
)
def test_an_identifier_posing_as_an_ins_is_refused(api, personas, identifier):
    body = {
        "resourceType": "Patient",
        "identifier": [identifier],
        "name": [{"use": "official", "family": "Faux", "given": ["Jean"]}],
        "gender": "male",
        "birthDate": "1960-05-02",
    }

    response = api.post("Patient", body, personas.treating_doctor)

    assert response.status_code == 400
    (issue,) = issues(response)
    assert issue["code"] == "code-invalid"
    assert issue["expression"] == ["Patient.identifier[0].system"]
    assert "matricule INS" in issue["diagnostics"]
    assert not Patient.objects.filter(birth_name="Faux").exists()
    assert not PatientIdentifier.objects.exists()


@pytest.mark.parametrize(
    ("changes", "expression"),
    [
        (
            {"identifier": [{"system": "http://x.example", "value": "12\x0734"}]},
            "Patient.identifier[0].value",
        ),
        (
            {"identifier": [{"system": "http://x.\texample", "value": "1"}]},
            "Patient.identifier[0].system",
        ),
        ({"telecom": [{"system": "url", "value": "http://a\x1b[31m"}]}, "Patient.telecom[0].value"),
        ({"address": [{"line": ["1 rue\r\nX-Injected: 1"]}]}, "Patient.address[0].line[0]"),
        ({"address": [{"city": "S" * 101}]}, "Patient.address[0].city"),
    ],
)
def test_it_refuses_control_characters_and_oversized_values(api, personas, changes, expression):
    body = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Bizarre", "given": ["Eve"]}],
        "gender": "female",
        "birthDate": "1990-03-04",
        **changes,
    }

    response = api.post("Patient", body, personas.treating_doctor)

    assert response.status_code == 400
    assert expression in [e for i in issues(response) for e in i.get("expression", [])]
    assert not Patient.objects.filter(birth_name="Bizarre").exists()


def test_ten_thousand_identifiers_are_refused_before_validation(api, personas):
    body = {
        "resourceType": "Patient",
        "identifier": [{"system": "http://x.example", "value": str(n)} for n in range(10_000)],
        "name": [{"use": "official", "family": "Beaucoup", "given": ["Jean"]}],
        "gender": "male",
        "birthDate": "1960-05-02",
    }
    api.token(personas.treating_doctor)

    response = api.post("Patient", body, personas.treating_doctor)

    assert response.status_code == 400
    (issue,) = issues(response)
    assert (issue["code"], issue["expression"]) == ("too-costly", ["Patient.identifier"])
    assert "au plus 20" in issue["diagnostics"]
    assert not Patient.objects.filter(birth_name="Beaucoup").exists()


def test_a_birth_place_without_insee_code_is_warned_not_refused(api, personas):
    body = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Ailleurs", "given": ["Luc"]}],
        "gender": "male",
        "birthDate": "1970-06-07",
        "extension": [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
                "valueAddress": {"city": "Wesley", "country": "DM"},
            }
        ],
    }

    response = _created(api, personas, body, HTTP_PREFER="return=OperationOutcome")

    (warning,) = [i for i in issues(response) if i["severity"] == "warning"]
    assert warning["expression"] == ["Patient.extension[0]"]
    assert "code INSEE" in warning["diagnostics"]
    assert Patient.objects.get(birth_name="Ailleurs").birthplace_code == ""


# --- The actions: a page changing the address retires the received one ---------


def _identity(patient: Patient, **changes: Any) -> IdentityInput:
    fields = {
        "birth_name": patient.birth_name,
        "first_birth_given_name": patient.first_birth_given_name,
        "birth_given_names": patient.birth_given_names,
        "birth_date": patient.birth_date,
        "sex": patient.sex,
        "birthplace_code": patient.birthplace_code,
        "ins_matricule": patient.ins_matricule,
        "commune": patient.commune,
        "address_line": patient.address_line,
        "phone": patient.phone,
        "email": patient.email,
        "treating_doctor": patient.treating_doctor,
    }
    return IdentityInput(**{**fields, **changes})


def test_a_page_changing_the_address_retires_the_received_one(api, personas):
    response = _created(api, personas, _synthea_patient())
    patient = Patient.objects.get(uuid=response["Location"].rsplit("/", 1)[-1])
    assert PatientAddress.objects.filter(patient=patient, main=True).exists()

    actions.update_patient(
        personas.treating_doctor.user,
        patient.uuid,
        _identity(patient, address_line="1 place de l'Église", commune=f.commune("18242")),
    )

    read = _read(api, personas, response)
    assert read["address"][0]["line"] == ["1 place de l'Église"]
    assert read["address"][0]["city"] == "Sancoins"
    assert len(read["address"]) == 1
    # The identifiers, which the page does not show, stay.
    assert len(read["identifier"]) == len(_synthea_patient()["identifier"])


def test_an_update_with_details_replaces_them_and_says_so(api, personas):
    response = _created(api, personas, _synthea_patient())
    patient = Patient.objects.get(uuid=response["Location"].rsplit("/", 1)[-1])

    actions.update_patient(
        personas.treating_doctor.user, patient.uuid, _identity(patient, details=PatientDetails())
    )

    patient.refresh_from_db()
    assert details_of(patient) == PatientDetails()
    assert not patient.details_kept
    entry = AuditEntry.objects.filter(action=Action.PATIENT_UPDATE).latest("pk")
    assert entry.detail["fields"] == ["details"]


def test_an_update_with_the_same_details_changes_nothing(api, personas):
    response = _created(api, personas, _synthea_patient())
    patient = Patient.objects.get(uuid=response["Location"].rsplit("/", 1)[-1])

    actions.update_patient(
        personas.treating_doctor.user,
        patient.uuid,
        _identity(patient, details=details_of(patient)),
    )

    entry = AuditEntry.objects.filter(action=Action.PATIENT_UPDATE).latest("pk")
    assert entry.detail["fields"] == []


def test_a_record_made_on_a_page_reads_without_detail_queries(
    api, personas, django_assert_max_num_queries
):
    patient = f.patient("SIMPLE", "Jean", dt.date(1950, 1, 1), "M", followed_by=(personas.msp,))
    api.token(personas.treating_doctor)
    from maillage.fhir.mapping.patient import patient_resource

    with django_assert_max_num_queries(0):
        resource = patient_resource(patient)
    assert resource["id"] == str(patient.uuid)


def test_it_keeps_one_of_our_organizations_and_languages(api, personas):
    body = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Gérée", "given": ["Anne"]}],
        "gender": "female",
        "birthDate": "1950-02-03",
        "managingOrganization": {"reference": f"Organization/{personas.msp.uuid}"},
        "communication": [
            {
                "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "fr-FR"}]},
                "preferred": True,
            }
        ],
        "deceasedDateTime": "2026-01-05T10:00:00+01:00",
        "multipleBirthInteger": 2,
    }

    response = _created(api, personas, copy.deepcopy(body))
    read = _read(api, personas, response)

    assert "Warning" not in response
    assert read["managingOrganization"] == {
        "reference": f"Organization/{personas.msp.uuid}",
        "display": personas.msp.name,
    }
    for element in ("communication", "deceasedDateTime", "multipleBirthInteger"):
        assert read[element] == body[element]


@pytest.mark.parametrize(
    ("changes", "expression"),
    [
        (
            {"contact": [{"name": {"family": "Nuit\x00"}}]},
            None,  # NUL: refused by the body check before any reader
        ),
        ({"contact": [{"name": {"family": "Li\u0085gne"}}]}, "Patient.contact[0].name.family"),
        (
            {"contact": [{"telecom": [{"system": "phone", "value": "06\t12"}]}]},
            "Patient.contact[0].telecom[0].value",
        ),
        (
            {"contact": [{"name": {"given": ["A"] * 21}}]},
            "Patient.contact[0].name.given",
        ),
        ({"multipleBirthInteger": -1}, "Patient.multipleBirthInteger"),
        ({"multipleBirthInteger": 70000}, "Patient.multipleBirthInteger"),
    ],
)
def test_it_refuses_a_contact_or_value_it_cannot_hold(api, personas, changes, expression):
    body = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Contact", "given": ["Eve"]}],
        "gender": "female",
        "birthDate": "1990-03-04",
        **changes,
    }

    response = api.post("Patient", body, personas.treating_doctor)

    assert response.status_code == 400
    if expression is not None:
        assert expression in [e for i in issues(response) for e in i.get("expression", [])]
    assert not Patient.objects.filter(birth_name="Contact").exists()


@pytest.mark.parametrize("source", ["synthea", "hl7"])
def test_the_same_resource_read_again_gives_the_same_details(api, personas, source):
    """What an update (PUT) of the unchanged resource compares: nothing differs."""
    from fhir.resources.R4B.patient import Patient as FhirPatient

    from maillage.fhir.mapping.patient_input import identity_from_fhir

    sent = _synthea_patient() if source == "synthea" else _hl7_patient()
    response = _created(api, personas, copy.deepcopy(sent))
    patient = Patient.objects.get(uuid=response["Location"].rsplit("/", 1)[-1])

    again = identity_from_fhir(FhirPatient.model_validate(sent)).identity

    assert again.details == details_of(patient)
    # And what was read back, sent again, is what was kept.
    read_back = identity_from_fhir(FhirPatient.model_validate(_read(api, personas, response)))
    assert read_back.identity.details == details_of(patient)


def test_a_search_page_reads_the_kept_details_in_a_fixed_number_of_queries(
    api, personas, django_assert_max_num_queries
):
    """Constant in the number of patients: each detail table is one query for the page."""
    for index in range(4):
        sent = _hl7_patient()
        sent["name"][0]["family"] = f"Chalmers{'x' * index}"
        sent["managingOrganization"] = {"reference": f"Organization/{personas.msp.uuid}"}
        _created(api, personas, sent)
    token = api.token(personas.treating_doctor)

    def search() -> Any:
        return api.client.get(
            "/fhir/r4/Patient", {"family": "Chalmers"}, HTTP_AUTHORIZATION=f"Bearer {token}"
        )

    with django_assert_max_num_queries(17):
        response = search()

    found = fhir_json(response)
    assert found["total"] == 4
    for entry in found["entry"]:
        assert entry["resource"]["contact"][0]["name"]["family"] == "du Marché"
        assert entry["resource"]["managingOrganization"]["display"] == personas.msp.name


def test_a_reference_display_other_than_ours_is_named(api, personas):
    doctor = personas.treating_doctor
    body = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Affichage", "given": ["Anne"]}],
        "gender": "female",
        "birthDate": "1950-02-03",
        "managingOrganization": {
            "reference": f"Organization/{personas.msp.uuid}",
            "display": "Cabinet du coin",
        },
        "generalPractitioner": [
            {"reference": f"Practitioner/{doctor.uuid}", "display": doctor.display_name}
        ],
    }

    response = _created(api, personas, body, HTTP_PREFER="return=OperationOutcome")

    assert _warned(response) == ["Patient.managingOrganization.display"]
    patient = Patient.objects.get(birth_name="Affichage")
    assert (patient.managing_organization, patient.treating_doctor) == (personas.msp, doctor)


def test_an_update_keeps_and_replaces_the_details_as_sent(api, personas):
    response = _created(api, personas, _synthea_patient())
    read = _read(api, personas, response)
    url = f"/fhir/r4/Patient/{read['id']}"
    token = api.token(personas.treating_doctor)

    def put(body: dict[str, Any], version: str) -> Any:
        return api.client.put(
            url,
            json.dumps(body),
            content_type="application/fhir+json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_IF_MATCH=f'W/"{version}"',
        )

    same = put(read, read["meta"]["versionId"])
    assert same.status_code == 200
    assert "Warning" not in same
    unchanged = _read(api, personas, response)
    for element in ("identifier", "address", "telecom", "maritalStatus", "communication"):
        assert unchanged[element] == read[element]

    changed = copy.deepcopy(unchanged)
    changed["address"][0]["country"] = "CA"
    changed["address"][0]["state"] = "Québec"
    changed["contact"] = [{"name": {"family": "Portillo", "given": ["Ana"]}, "gender": "female"}]
    del changed["identifier"][1:]
    answer = put(changed, unchanged["meta"]["versionId"])

    assert answer.status_code == 200, answer.content
    # The answer is the version it names, not the details read before the write.
    answered = fhir_json(answer)
    assert answered["address"][0]["country"] == "CA"
    assert answered["contact"] == changed["contact"]
    after = _read(api, personas, response)
    assert after["address"][0]["country"] == "CA"
    assert after["address"][0]["state"] == "Québec"
    assert after["contact"] == changed["contact"]
    assert after["identifier"] == changed["identifier"]
    entry = AuditEntry.objects.filter(action=Action.PATIENT_UPDATE).latest("pk")
    assert "details" in entry.detail["fields"]


# --- Nothing silent, checked on every leaf of every example --------------------

EXAMPLES = [*SYNTHEA, HL7_PATIENT]


def _patient_of(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    if data["resourceType"] == "Bundle":
        return next(
            e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Patient"
        )
    return dict(data)


def _leaves(value: Any, path: str) -> list[tuple[str, Any]]:
    """(FHIRPath with positions, value) of every primitive in a JSON document."""
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [leaf for i, item in enumerate(value) for leaf in _leaves(item, f"{path}[{i}]")]
    return [(path, _instant(value))]


def _instant(value: Any) -> Any:
    """A dateTime with its time as the same instant ("+00:00" is sent back as "Z")."""
    if isinstance(value, str) and len(value) > 10 and value[4:5] == "-" and "T" in value:
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value


def _without_positions(path: str) -> str:
    return "".join(part.split("]")[-1] for part in path.split("["))


def _warned_about(path: str, warned: list[str]) -> bool:
    # "Patient._birthDate…" is warned as "Patient.birthDate.extension".
    path = path.replace("._", ".").replace(".birthDate.extension", ".birthDate.extension")
    return any(path == w or path.startswith(f"{w}.") or path.startswith(f"{w}[") for w in warned)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name[:24])
def test_every_value_sent_is_read_back_or_named(api, personas, path):
    """Each primitive of the resource sent is in the read, as sent, or under a warned element."""
    sent = _patient_of(path)

    response = _created(api, personas, copy.deepcopy(sent), HTTP_PREFER="return=OperationOutcome")
    warned = _warned(response)
    patient_id = response["Location"].rsplit("/", 1)[-1]
    read = fhir_json(api.get(f"Patient/{patient_id}", personas.treating_doctor))

    read_back = {(_without_positions(p), v) for p, v in _leaves(read, "Patient")}
    silent = [
        (p, v)
        for p, v in _leaves(sent, "Patient")
        if p not in ("Patient.resourceType", "Patient.id")
        and (_without_positions(p), v) not in read_back
        and not _warned_about(p, warned)
    ]
    assert silent == []


@pytest.mark.parametrize(
    ("name", "expression"),
    [("Patient-f001.json", "Patient.name"), ("Patient-pat1.json", "Patient.birthDate")],
)
def test_an_example_lacking_a_strict_trait_is_refused_not_half_kept(
    api, personas, name, expression
):
    """No official name, no birth date: no identity to hold the rest, so nothing is kept."""
    sent = _patient_of(DATA / "fhir_examples" / name)

    response = api.post("Patient", sent, personas.treating_doctor)

    assert response.status_code == 400
    (issue,) = issues(response)
    assert (issue["code"], issue["expression"]) == ("required", [expression])
    assert not PatientIdentifier.objects.exists()


def test_an_identity_status_sent_is_not_taken_and_says_why(api, personas):
    body = {
        "resourceType": "Patient",
        "extension": [
            {
                "url": IDENTITY_RELIABILITY_EXTENSION,
                "extension": [
                    {
                        "url": "identityStatus",
                        "valueCoding": {"system": IDENTITY_STATUS_SYSTEM, "code": "QUAL"},
                    }
                ],
            }
        ],
        "name": [{"use": "official", "family": "Qualifiée", "given": ["Sans"]}],
        "gender": "female",
        "birthDate": "1950-02-03",
    }

    response = _created(api, personas, body, HTTP_PREFER="return=OperationOutcome")

    (warning,) = [i for i in issues(response) if i["severity"] == "warning"]
    assert warning["expression"] == ["Patient.extension[0]"]
    assert warning["diagnostics"].startswith("Le statut de l'identité n'est pas repris du client")
    assert Patient.objects.get(birth_name="Qualifiée").identity_status == "PROV"


def test_a_compound_given_name_after_the_first_is_named(api, personas):
    body = {
        "resourceType": "Patient",
        "name": [
            {"use": "official", "family": "Composé", "given": ["Anne Sophie", "Marie Claire"]}
        ],
        "gender": "female",
        "birthDate": "1950-02-03",
    }

    response = _created(api, personas, copy.deepcopy(body), HTTP_PREFER="return=OperationOutcome")

    assert _warned(response) == ["Patient.name[0].given[1]"]
    read = _read(api, personas, response)
    # The first keeps its space; the next one reads back split, as the warning said.
    assert read["name"][0]["given"] == ["Anne Sophie", "Marie", "Claire"]


@pytest.mark.parametrize(
    "element",
    [
        {"telecom": [{"system": "phone", "value": "0600000000", "use": "u" * 300}]},
        {"telecom": [{"system": "pigeon", "value": "0600000000"}]},
        {"identifier": [{"system": "urn:x", "value": "1", "use": "forever"}]},
        {"address": [{"use": "h" * 300, "city": "Sancoins"}]},
        {"address": [{"type": "cave", "city": "Sancoins"}]},
        {"contact": [{"name": {"family": "Durand"}, "gender": "g" * 300}]},
    ],
)
def test_a_code_outside_its_fhir_value_set_is_refused_in_french(api, personas, element):
    body = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Codes", "given": ["Jean"]}],
        "gender": "male",
        "birthDate": "1960-05-02",
        **element,
    }
    api.token(personas.treating_doctor)

    response = api.post("Patient", body, personas.treating_doctor)

    assert response.status_code == 400
    assert "Ce code n'est pas l'un de" in issues(response)[0]["diagnostics"]
    assert not Patient.objects.filter(birth_name="CODES").exists()
