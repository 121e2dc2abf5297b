"""DocumentReference search by subject, date and author."""

from __future__ import annotations

import datetime as dt

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import document, fhir_json, in_care_team, issues
from maillage.testing import factories as f

pytestmark = pytest.mark.usefixtures("private_files")


def _ids(bundle):
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


def _at(text):
    return dt.datetime.fromisoformat(text)


@pytest.fixture
def record(personas):
    """Two documents by the médecin traitant, one by the nurse of the care team."""
    in_care_team(personas.nurse, personas.patient)
    gp = personas.treating_doctor
    return {
        "january": document(gp, personas.patient, title="Jan", created_at=_at("2026-01-05T10:00Z")),
        "november": document(
            gp, personas.patient, title="Nov", created_at=_at("2026-11-05T23:30+00:00")
        ),
        "nurse": document(
            personas.nurse,
            personas.patient,
            "photo",
            title="Soins",
            created_at=_at("2026-06-01T08:00Z"),
        ),
    }


def _search(api, who, **params):
    return api.get("DocumentReference", who, data=params)


def test_subject_names_the_patient_as_patient_does(api, personas, record):
    by_subject = fhir_json(
        _search(api, personas.treating_doctor, subject=f"Patient/{personas.patient.uuid}")
    )
    by_both = fhir_json(
        _search(
            api,
            personas.treating_doctor,
            subject=str(personas.patient.uuid),
            patient=f"Patient/{personas.patient.uuid}",
        )
    )

    assert set(_ids(by_subject)) == set(_ids(by_both)) == {str(d.uuid) for d in record.values()}
    (entry, _second) = AuditEntry.objects.filter(action=Action.RECORD_READ)
    assert (entry.patient, entry.outcome) == (personas.patient, Outcome.GRANTED)


def test_subject_of_an_outsider_is_refused_and_audited(api, personas, record):
    response = _search(api, personas.cardiologist, subject=f"Patient/{personas.patient.uuid}")

    assert response.status_code == 404
    entry = AuditEntry.objects.get(action=Action.RECORD_READ)
    assert (entry.patient, entry.outcome) == (personas.patient, Outcome.DENIED)


def test_patient_and_subject_must_agree(api, personas):
    other = f.patient("ARNAUD", "Zoé", followed_by=(personas.msp,))

    response = _search(
        api,
        personas.treating_doctor,
        subject=f"Patient/{other.uuid}",
        patient=f"Patient/{personas.patient.uuid}",
    )

    assert response.status_code == 400
    assert issues(response)[0]["diagnostics"] == (
        "patient et subject désignent deux patients différents : n'en donnez qu'un."
    )
    assert not AuditEntry.objects.filter(action=Action.RECORD_READ).exists()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11", {"november"}),
        # 23:30 UTC on the 5th is the 6th in Paris: a date without a zone is the server's.
        ("2026-11-05", set()),
        ("2026-11-06T00:30:00+01:00", {"november"}),
        ("2026-11-06", {"november"}),
        ("lt2026-06", {"january"}),
        ("ge2026-06-01T08:00:00Z", {"nurse", "november"}),
        ("gt2026-06-01T08:00:00Z", {"november"}),
        ("ne2026", set()),
    ],
)
def test_it_filters_on_the_date(api, personas, record, value, expected):
    bundle = fhir_json(
        _search(api, personas.treating_doctor, patient=str(personas.patient.uuid), date=value)
    )

    assert set(_ids(bundle)) == {str(record[k].uuid) for k in expected}


def test_it_refuses_a_malformed_date_in_french(api, personas):
    response = _search(
        api, personas.treating_doctor, patient=str(personas.patient.uuid), date="05/11/2026"
    )

    assert response.status_code == 400
    assert "n'est pas valide" in issues(response)[0]["diagnostics"]
    assert not AuditEntry.objects.filter(action=Action.RECORD_READ).exists()


def test_it_filters_on_the_author(api, personas, record):
    gp, nurse = personas.treating_doctor, personas.nurse
    patient = str(personas.patient.uuid)

    by_gp = fhir_json(_search(api, gp, patient=patient, author=f"Practitioner/{gp.uuid}"))
    by_nurse = fhir_json(_search(api, gp, patient=patient, author=str(nurse.uuid)))
    by_either = fhir_json(_search(api, gp, patient=patient, author=f"{gp.uuid},{nurse.uuid}"))
    by_stranger = fhir_json(
        _search(api, gp, patient=patient, author=f"Practitioner/{personas.cardiologist.uuid}")
    )

    assert set(_ids(by_gp)) == {str(record["january"].uuid), str(record["november"].uuid)}
    assert _ids(by_nurse) == [str(record["nurse"].uuid)]
    assert set(_ids(by_either)) == {str(d.uuid) for d in record.values()}
    assert by_stranger["total"] == 0


def test_an_author_of_another_type_is_refused(api, personas):
    response = _search(
        api,
        personas.treating_doctor,
        patient=str(personas.patient.uuid),
        author=f"Patient/{personas.patient.uuid}",
    )

    assert response.status_code == 400
    assert "Practitioner" in issues(response)[0]["diagnostics"]


def test_the_patient_searches_her_own_documents_by_date(api, personas, record):
    bundle = fhir_json(_search(api, personas.patient_user, date="ge2026-06", _sort="date"))

    assert _ids(bundle) == [str(record["nurse"].uuid), str(record["november"].uuid)]
