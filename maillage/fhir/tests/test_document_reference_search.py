from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import PDF, document, fhir_json, in_care_team, issues
from maillage.records import actions
from maillage.records.actions import NewDocument, Upload

pytestmark = pytest.mark.usefixtures("private_files")


def _ids(bundle):
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


@pytest.fixture
def record(personas):
    """A current report, a current prescription, a replaced and a withdrawn document."""
    doctor = personas.treating_doctor
    report = document(doctor, personas.patient, title="CR")
    prescription = document(doctor, personas.patient, "prescription", title="Ordonnance")
    replaced = document(doctor, personas.patient, "lab_results", title="Bilan")
    newer = actions.replace_document(
        doctor.user,
        replaced,
        NewDocument("lab_results", "Bilan v2", replaced.date),
        [Upload("b.pdf", PDF)],
    )
    withdrawn = document(doctor, personas.patient, "imaging_report", title="Radio")
    actions.withdraw_document(doctor.user, withdrawn, "Mauvais patient")
    hidden = document(doctor, personas.patient, "photo", title="Photo", hidden_from_patient=True)
    return {
        "report": report,
        "prescription": prescription,
        "replaced": replaced,
        "newer": newer,
        "withdrawn": withdrawn,
        "hidden": hidden,
    }


def _search(api, who, **params):
    return api.get("DocumentReference", who, data=params)


def test_it_lists_the_current_documents_and_audits_the_opening(api, personas, record):
    response = _search(api, personas.treating_doctor, patient=f"Patient/{personas.patient.uuid}")

    assert response.status_code == 200
    bundle = fhir_json(response)
    assert bundle["total"] == 4
    assert set(_ids(bundle)) == {
        str(record[k].uuid) for k in ("report", "prescription", "newer", "hidden")
    }
    assert {e["resource"]["status"] for e in bundle["entry"]} == {"current"}
    (entry,) = AuditEntry.objects.filter(action=Action.RECORD_READ)
    assert (entry.outcome, entry.patient, entry.basis) == (
        Outcome.GRANTED,
        personas.patient,
        "treating_doctor",
    )


def test_it_lists_history_when_the_status_asks_for_it(api, personas, record):
    bundle = fhir_json(
        _search(
            api,
            personas.treating_doctor,
            patient=str(personas.patient.uuid),
            status="superseded,entered-in-error",
        )
    )

    assert sorted(_ids(bundle)) == sorted(
        [str(record["replaced"].uuid), str(record["withdrawn"].uuid)]
    )
    statuses = {e["resource"]["id"]: e["resource"]["status"] for e in bundle["entry"]}
    assert statuses[str(record["withdrawn"].uuid)] == "entered-in-error"
    assert statuses[str(record["replaced"].uuid)] == "superseded"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("prescription", {"prescription"}),
        ("https://maillage.example/fhir/CodeSystem/document-type|prescription", {"prescription"}),
        ("http://loinc.org|57833-6", {"prescription"}),
        ("57833-6,11502-2", {"prescription", "newer"}),
        ("http://loinc.org|prescription", set()),
        ("http://snomed.info/sct|57833-6", set()),
    ],
)
def test_it_filters_by_type(api, personas, record, value, expected):
    bundle = fhir_json(
        _search(api, personas.treating_doctor, patient=str(personas.patient.uuid), type=value)
    )

    assert set(_ids(bundle)) == {str(record[k].uuid) for k in expected}


def test_it_finds_both_telemedicine_reports_by_their_loinc_code(api, personas):
    doctor = personas.treating_doctor
    report = document(doctor, personas.patient, "teleconsultation_report")
    opinion = document(doctor, personas.patient, "teleexpertise_opinion")
    document(doctor, personas.patient, "ecg")

    bundle = fhir_json(
        _search(api, doctor, patient=str(personas.patient.uuid), type="http://loinc.org|85208-7")
    )

    assert set(_ids(bundle)) == {str(report.uuid), str(opinion.uuid)}


def test_it_lets_the_patient_search_her_own_record_without_naming_it(api, personas, record):
    bundle = fhir_json(_search(api, personas.patient_user))

    assert set(_ids(bundle)) == {str(record[k].uuid) for k in ("report", "prescription", "newer")}


def test_it_shows_a_care_team_nurse_only_what_her_profession_reads(api, personas, record):
    in_care_team(personas.nurse, personas.patient)

    bundle = fhir_json(_search(api, personas.nurse, patient=str(personas.patient.uuid)))

    # Nurses read reports, prescriptions, results and photos (habilitation matrix).
    assert set(_ids(bundle)) == {
        str(record[k].uuid) for k in ("report", "prescription", "newer", "hidden")
    }


def test_it_answers_404_to_an_outsider_and_audits_the_refusal(api, personas, record):
    response = _search(api, personas.cardiologist, patient=str(personas.patient.uuid))

    assert response.status_code == 404
    assert issues(response)[0]["code"] == "not-found"
    (entry,) = AuditEntry.objects.filter(action=Action.RECORD_READ)
    assert (entry.outcome, entry.patient, entry.actor) == (
        Outcome.DENIED,
        personas.patient,
        personas.cardiologist.user,
    )


def test_it_answers_404_to_an_unknown_patient(api, personas):
    response = _search(
        api, personas.treating_doctor, patient="Patient/3f2b1c9e-0000-4000-8000-000000000000"
    )

    assert response.status_code == 404
    assert AuditEntry.objects.get(action=Action.RECORD_READ).outcome == Outcome.DENIED


def test_it_asks_a_professional_to_name_the_patient(api, personas):
    response = _search(api, personas.treating_doctor)

    assert response.status_code == 400
    (issue,) = issues(response)
    assert (issue["code"], issue["expression"]) == ("required", ["patient"])


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"status": "deleted"}, "code-invalid"),
        ({"status": "http://x|current"}, "code-invalid"),
        ({"patient": "Practitioner/3f2b1c9e-0000-4000-8000-000000000000"}, "invalid"),
        ({"period": "2026"}, "not-supported"),
        ({"date": "2026-02-30"}, "invalid"),
    ],
)
def test_it_refuses_what_it_does_not_understand(api, personas, params, code):
    response = _search(
        api, personas.treating_doctor, **{"patient": str(personas.patient.uuid), **params}
    )

    assert response.status_code == 400
    assert issues(response)[0]["code"] == code


def test_it_pages(api, personas, record):
    bundle = fhir_json(
        _search(api, personas.treating_doctor, patient=str(personas.patient.uuid), _count=3)
    )

    assert bundle["total"] == 4
    assert len(bundle["entry"]) == 3
    assert "next" in {link["relation"] for link in bundle["link"]}


def test_it_reads_a_page_in_a_constant_number_of_queries(api, personas, record):
    token = api.token(personas.treating_doctor)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = api.client.get(
                "/fhir/r4/DocumentReference",
                {"patient": str(personas.patient.uuid), "_count": 20},
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
        assert response.status_code == 200
        return len(captured)

    queries()  # the token's first use of the minute writes its last use; not a per-page cost
    few = queries()
    for _ in range(10):
        document(personas.treating_doctor, personas.patient, "ecg")
    many = queries()

    assert many == few
