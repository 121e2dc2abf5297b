from __future__ import annotations

import pytest
from django.utils import timezone

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import document, fhir_json, issues
from maillage.records import actions

pytestmark = pytest.mark.usefixtures("private_files")

ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
REASON = "Malaise au domicile, patiente inconsciente, antécédents inconnus"


def _events(api, who, **params):
    response = api.get("AuditEvent", who, data=params)
    assert response.status_code == 200, response.content
    return [e["resource"] for e in fhir_json(response).get("entry", [])]


def _subtypes(event):
    return {c["code"] for c in event["subtype"]}


def _purposes(event):
    return [c["code"] for p in event.get("purposeOfEvent", []) for c in p["coding"]]


def test_it_lists_the_patients_own_trail_newest_first(api, personas):
    doc = document(personas.treating_doctor, personas.patient)
    api.get(f"DocumentReference/{doc.uuid}", personas.treating_doctor)

    events = _events(api, personas.patient_user)

    # Her own reading of the trail comes first, then the doctor's reading.
    own, read = events[0], events[1]
    assert "patient.access_log" in _subtypes(own)
    assert own["agent"][0]["who"]["reference"] == f"Patient/{personas.patient.uuid}"
    assert _purposes(own) == ["PATRQT"]
    assert read["type"] == {
        "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
        "code": "rest",
        "display": "RESTful Operation",
    }
    assert {
        "system": "http://hl7.org/fhir/restful-interaction",
        "code": "read",
        "display": "read",
    } in read["subtype"]
    assert read["action"] == "R"
    assert read["outcome"] == "0"
    assert _purposes(read) == ["TREAT"]
    (agent,) = read["agent"]
    assert agent["who"] == {
        "reference": f"Practitioner/{personas.treating_doctor.uuid}",
        "display": "Claire Morel",
    }
    assert agent["requestor"] is True
    assert agent["role"][0]["coding"][0]["code"] == "doctor"
    assert agent["extension"][0]["valueCoding"]["code"] == "treating_doctor"
    assert [e["what"]["reference"] for e in read["entity"]] == [
        f"Patient/{personas.patient.uuid}",
        f"DocumentReference/{doc.uuid}",
    ]
    assert read["source"]["observer"] == {"display": "Maillage"}
    entry = AuditEntry.objects.filter(action=Action.ACCESS_LOG_READ).get()
    assert (entry.outcome, entry.basis, entry.detail) == (
        Outcome.GRANTED,
        "self",
        {"fhir": "AuditEvent"},
    )


def test_it_marks_break_the_glass_with_etreat_and_its_reason(api, personas):
    doc = document(personas.treating_doctor, personas.patient)
    cardiologist = personas.cardiologist
    actions.break_glass(cardiologist.user, personas.patient.uuid, REASON)
    assert api.get(f"DocumentReference/{doc.uuid}", cardiologist).status_code == 200

    events = _events(api, personas.patient_user)

    by_action = {
        next(c["code"] for c in e["subtype"] if "audit-action" in c["system"]): e for e in events
    }
    opening = by_action["record.break_glass"]
    assert opening["type"]["code"] == "110113"  # Security Alert
    assert "110127" in _subtypes(opening)  # Emergency Override Started
    assert _purposes(opening) == ["ETREAT"]
    reading = by_action["document.read"]
    assert _purposes(reading) == ["ETREAT"]
    (purpose,) = reading["agent"][0]["purposeOfUse"]
    assert purpose == {
        "coding": [{"system": ACT_REASON, "code": "ETREAT", "display": "Emergency Treatment"}],
        "text": REASON,
    }
    assert reading["agent"][0]["extension"][0]["valueCoding"]["code"] == "break_glass"


def test_it_shows_refused_attempts_as_failures(api, personas):
    doc = document(personas.treating_doctor, personas.patient)
    api.get(f"DocumentReference/{doc.uuid}", personas.cardiologist)

    events = _events(api, personas.patient_user)

    refused = next(e for e in events if e["outcome"] != "0")
    assert refused["outcome"] == "4"
    assert refused["outcomeDesc"] == "refusé"
    assert "purposeOfEvent" not in refused
    assert refused["agent"][0]["who"]["reference"] == f"Practitioner/{personas.cardiologist.uuid}"


def test_it_leaves_out_hashes_internal_ids_and_addresses(api, personas):
    doc = document(personas.treating_doctor, personas.patient)
    api.get(f"DocumentReference/{doc.uuid}", personas.treating_doctor, REMOTE_ADDR="203.0.113.9")

    response = api.get("AuditEvent", personas.patient_user)

    body = response.content.decode()
    for entry in AuditEntry.objects.filter(patient=personas.patient):
        assert entry.hash not in body
        assert entry.prev_hash not in body
    assert "203.0.113.9" not in body
    assert '"actor"' not in body


def test_it_lists_only_her_own_entries(api, personas):
    from maillage.testing import factories as f

    other = f.patient(
        "MARTIN", "Jeanne", followed_by=(personas.msp,), treating_doctor=personas.treating_doctor
    )
    api.get(f"Patient/{other.uuid}", personas.treating_doctor)

    events = _events(api, personas.patient_user)

    assert str(other.uuid) not in str(events)


@pytest.mark.parametrize("who", ["treating_doctor", "cardiologist", "regulator", "admin"])
def test_it_answers_404_to_anyone_else_naming_her_and_tells_her(api, personas, who):
    response = api.get(
        "AuditEvent", personas.user(who), data={"patient": str(personas.patient.uuid)}
    )

    assert response.status_code == 404
    entry = AuditEntry.objects.get(action=Action.ACCESS_LOG_READ)
    assert (entry.outcome, entry.patient) == (Outcome.DENIED, personas.patient)


def test_it_answers_403_to_a_professional_naming_nobody(api, personas):
    response = api.get("AuditEvent", personas.treating_doctor)

    assert response.status_code == 403
    assert AuditEntry.objects.get(action=Action.ACCESS_LOG_READ).outcome == Outcome.DENIED


def test_it_filters_by_day(api, personas):
    api.get(f"Patient/{personas.patient.uuid}", personas.treating_doctor)

    today = _events(api, personas.patient_user, date=timezone.localdate().isoformat())
    past = _events(api, personas.patient_user, date="lt2000-01-01")

    assert today
    assert past == []


def test_it_refuses_a_bad_date_before_the_gate(api, personas):
    response = api.get("AuditEvent", personas.patient_user, data={"date": "yesterday"})

    assert response.status_code == 400
    assert issues(response)[0]["code"] == "invalid"
    assert not AuditEntry.objects.filter(action=Action.ACCESS_LOG_READ).exists()


def test_it_pages(api, personas):
    for _ in range(3):
        api.get(f"Patient/{personas.patient.uuid}", personas.treating_doctor)

    bundle = fhir_json(api.get("AuditEvent", personas.patient_user, data={"_count": 2}))

    assert bundle["total"] == 4
    assert len(bundle["entry"]) == 2
    assert "next" in {link["relation"] for link in bundle["link"]}


@pytest.mark.parametrize("value", ["²", "١٢", "12a", "9" * 30])
def test_an_id_that_is_no_sequence_number_finds_nothing(api, personas, value):
    patient_user = personas.patient_user

    response = api.get("AuditEvent", patient_user, data={"_id": value})

    assert response.status_code == 200
    assert fhir_json(response)["total"] == 0
