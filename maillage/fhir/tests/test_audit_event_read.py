from __future__ import annotations

import pytest

from maillage.accounts.models import Role
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import fhir_json, issues
from maillage.testing import factories as f


def test_it_reads_an_entry_of_her_own_trail(api, personas):
    api.get(f"Patient/{personas.patient.uuid}", personas.treating_doctor)
    entry = AuditEntry.objects.get(action=Action.PATIENT_READ)

    response = api.get(f"AuditEvent/{entry.seq}", personas.patient_user)

    assert response.status_code == 200
    event = fhir_json(response)
    assert event["id"] == str(entry.seq)
    assert event["type"]["code"] == "rest"
    assert event["action"] == "R"
    assert event["entity"][0]["what"] == {"reference": f"Patient/{personas.patient.uuid}"}


def test_it_maps_an_entry_of_another_channel_to_its_dicom_event(api, personas):
    from maillage.audit.actions import Event, record

    entry = record(
        personas.treating_doctor.user,
        Event(action=Action.RECORD_READ, patient=personas.patient, basis="treating_doctor"),
    )
    assert entry.channel != "fhir"

    event = fhir_json(api.get(f"AuditEvent/{entry.seq}", personas.patient_user))

    assert event["type"] == {
        "system": "http://dicom.nema.org/resources/ontology/DCM",
        "code": "110110",
        "display": "Patient Record",
    }
    assert [c["system"] for c in event["subtype"]] == [
        "https://maillage.example/fhir/CodeSystem/audit-action"
    ]


def test_it_answers_404_to_an_entry_of_someone_else(api, personas):
    other = f.patient("MARTIN", "Jeanne", followed_by=(personas.msp,))
    api.get(f"Patient/{other.uuid}", personas.coordinator)
    theirs = AuditEntry.objects.get(action=Action.PATIENT_READ, patient=other)

    response = api.get(f"AuditEvent/{theirs.seq}", personas.patient_user)

    assert response.status_code == 404


@pytest.mark.parametrize("resource_id", ["999999", "not-a-number", "9" * 30])
def test_it_answers_404_to_what_is_no_entry(api, personas, resource_id):
    assert api.get(f"AuditEvent/{resource_id}", personas.patient_user).status_code == 404


@pytest.mark.parametrize("who", ["treating_doctor", "admin", "analyst"])
def test_it_answers_403_to_anyone_but_a_patient_and_audits_it(api, personas, who):
    api.get(f"Patient/{personas.patient.uuid}", personas.treating_doctor)
    entry = AuditEntry.objects.get(action=Action.PATIENT_READ)

    response = api.get(f"AuditEvent/{entry.seq}", personas.user(who))

    assert response.status_code == 403
    assert issues(response)[0]["code"] == "forbidden"
    refusal = AuditEntry.objects.get(action=Action.ACCESS_LOG_READ)
    assert (refusal.outcome, refusal.actor, refusal.patient) == (
        Outcome.DENIED,
        personas.user(who),
        None,
    )


def test_it_answers_404_to_a_patient_account_without_a_record(api, personas):
    lonely = f.user("sans.dossier", Role.PATIENT)

    assert api.get("AuditEvent/1", lonely).status_code == 404
