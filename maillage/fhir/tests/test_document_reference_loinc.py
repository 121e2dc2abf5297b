"""Any LOINC document type is accepted and kept as sent (STANDARDS.md, item 5 of issue 9)."""

from __future__ import annotations

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import fhir_json, in_care_team, issues
from maillage.fhir.tests.test_document_reference_create import OURS, _body
from maillage.records.models import Document

pytestmark = pytest.mark.usefixtures("private_files")

LOINC = "http://loinc.org"
# A valid code (its check digit is right) that names none of our types:
# 11506-3, "Provider-unspecified progress note".
UNKNOWN_BUT_VALID = "11506-3"


def _loinc(code, display=None):
    coding = {"system": LOINC, "code": code}
    if display is not None:
        coding["display"] = display
    return {"coding": [coding]}


def _loinc_codings(resource):
    return [c for c in resource["type"]["coding"] if c["system"] == LOINC]


def test_it_keeps_a_consult_note_as_sent_and_returns_it(api, personas):
    body = _body(personas.patient, type=_loinc("11488-4", "Consult note"))

    response = api.post("DocumentReference", body, personas.treating_doctor)

    assert response.status_code == 201
    document = Document.objects.get()
    assert (document.loinc_code, document.loinc_display) == ("11488-4", "Consult note")
    assert document.type == "unclassified"
    read = api.get(f"DocumentReference/{document.uuid}", personas.treating_doctor)
    assert _loinc_codings(fhir_json(read)) == [
        {"system": LOINC, "code": "11488-4", "display": "Consult note"}
    ]
    assert _loinc_codings(fhir_json(response)) == _loinc_codings(fhir_json(read))


def test_it_returns_11490_0_as_11490_0_not_as_34133_9(api, personas):
    body = _body(personas.patient, type=_loinc("11490-0"))

    response = api.post("DocumentReference", body, personas.treating_doctor)

    assert response.status_code == 201
    document = Document.objects.get()
    # Still a liaison letter for the policy and the pages…
    assert (document.type, document.loinc_code) == ("liaison_letter", "11490-0")
    read = fhir_json(api.get(f"DocumentReference/{document.uuid}", personas.treating_doctor))
    # …but the code goes back as it came, with no display invented for it.
    assert _loinc_codings(read) == [{"system": LOINC, "code": "11490-0"}]
    assert "34133-9" not in str(read)
    # No warning: everything received was kept.
    assert "Warning" not in response


def test_it_files_an_unknown_but_valid_loinc_code_as_unclassified_with_a_warning(api, personas):
    body = _body(personas.patient, type=_loinc(UNKNOWN_BUT_VALID, "Progress note"))

    response = api.post(
        "DocumentReference", body, personas.treating_doctor, HTTP_PREFER="return=OperationOutcome"
    )

    assert response.status_code == 201
    document = Document.objects.get()
    assert (document.type, document.loinc_code) == ("unclassified", UNKNOWN_BUT_VALID)
    assert response["Location"].endswith(f"/DocumentReference/{document.uuid}")
    found = issues(response)
    assert found[0]["severity"] == "information"
    (warning,) = found[1:]
    assert (warning["severity"], warning["expression"]) == ("warning", ["DocumentReference.type"])
    assert "non classé" in warning["diagnostics"]


def test_a_loinc_code_shared_by_two_of_our_types_is_kept_as_unclassified(api, personas):
    body = _body(personas.patient, type=_loinc("85208-7"))

    response = api.post("DocumentReference", body, personas.treating_doctor)

    assert response.status_code == 201
    assert Document.objects.get().type == "unclassified"
    assert response["Warning"] == '299 maillage "Not kept: DocumentReference.type"'


def test_our_own_coding_classifies_it_and_the_loinc_code_is_kept_beside(api, personas):
    body = _body(
        personas.patient,
        type={
            "coding": [
                {"system": LOINC, "code": "85208-7", "display": "CR de télémédecine"},
                {"system": OURS, "code": "teleexpertise_opinion"},
            ]
        },
    )

    response = api.post("DocumentReference", body, personas.treating_doctor)

    assert response.status_code == 201
    document = Document.objects.get()
    assert (document.type, document.loinc_code) == ("teleexpertise_opinion", "85208-7")
    assert "Warning" not in response


@pytest.mark.parametrize("code", ["11488-5", "11488", "LOINC-1", "1234567890-1", "１１４８８-４"])
def test_it_refuses_what_is_not_a_loinc_code(api, personas, code):
    body = _body(personas.patient, type=_loinc(code))

    response = api.post("DocumentReference", body, personas.treating_doctor)

    assert response.status_code == 400
    (issue,) = issues(response)
    assert issue["expression"] == ["DocumentReference.type.coding[0].code"]
    assert not Document.objects.exists()


def test_it_refuses_a_display_longer_than_it_can_keep(api, personas):
    body = _body(personas.patient, type=_loinc("11488-4", "x" * 201))

    response = api.post("DocumentReference", body, personas.treating_doctor)

    assert response.status_code == 400
    assert not Document.objects.exists()


def test_it_warns_about_a_coding_of_another_system(api, personas):
    body = _body(
        personas.patient,
        type={
            "coding": [
                {"system": "http://snomed.info/sct", "code": "371530004"},
                {"system": LOINC, "code": "11488-4"},
                {"system": LOINC, "code": "34133-9"},
            ]
        },
    )

    response = api.post(
        "DocumentReference", body, personas.treating_doctor, HTTP_PREFER="return=OperationOutcome"
    )

    assert response.status_code == 201
    paths = [e for i in issues(response) if i["severity"] == "warning" for e in i["expression"]]
    assert paths == [
        "DocumentReference.type.coding[0]",
        "DocumentReference.type.coding[2]",
        "DocumentReference.type",
    ]
    assert Document.objects.get().loinc_code == "11488-4"


def test_a_search_by_type_finds_the_loinc_code_as_sent(api, personas):
    doctor = personas.treating_doctor
    api.post("DocumentReference", _body(personas.patient, type=_loinc("11488-4")), doctor)
    api.post("DocumentReference", _body(personas.patient, type=_loinc("11490-0")), doctor)
    patient = personas.patient.uuid

    def found(value):
        response = api.get(f"DocumentReference?patient={patient}&type={value}", doctor)
        return sorted(
            c["code"]
            for e in fhir_json(response).get("entry", [])
            for c in _loinc_codings(e["resource"])
        )

    assert found(f"{LOINC}|11488-4") == ["11488-4"]
    assert found("11490-0") == ["11490-0"]
    # The code our type would have had is not the code this document carries.
    assert found(f"{LOINC}|34133-9") == []
    assert found(f"{OURS}|liaison_letter") == ["11490-0"]


def test_a_nurse_of_the_care_team_may_not_file_an_unclassified_document(api, personas):
    in_care_team(personas.nurse, personas.patient)
    body = _body(personas.patient, type=_loinc(UNKNOWN_BUT_VALID))

    response = api.post("DocumentReference", body, personas.nurse)

    assert response.status_code == 403
    assert not Document.objects.exists()
    entry = AuditEntry.objects.get(action=Action.DOCUMENT_CREATE)
    assert entry.outcome == Outcome.FAILED and entry.detail["failure"] == "habilitation"


def test_a_nurse_of_the_care_team_does_not_see_an_unclassified_document(api, personas):
    in_care_team(personas.nurse, personas.patient)
    body = _body(personas.patient, type=_loinc("11488-4"))
    created = api.post("DocumentReference", body, personas.treating_doctor)
    document_id = fhir_json(created)["id"]

    read = api.get(f"DocumentReference/{document_id}", personas.nurse)
    search = api.get(f"DocumentReference?patient={personas.patient.uuid}", personas.nurse)

    assert read.status_code == 404
    assert fhir_json(search).get("entry", []) == []
    refusals = AuditEntry.objects.filter(action=Action.DOCUMENT_READ, actor=personas.nurse.user)
    assert [(e.outcome, e.detail["rule"]) for e in refusals] == [(Outcome.DENIED, "habilitation")]
    # The patient sees her own unclassified document.
    assert api.get(f"DocumentReference/{document_id}", personas.patient_user).status_code == 200
