"""ServiceRequest read: a tele-expertise question, for its participants only, each read audited."""

from __future__ import annotations

import uuid

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.expertise import actions
from maillage.fhir.mapping.service_request import ORAL_CONSENT_EXTENSION, POOL_SYSTEM
from maillage.fhir.tests.conftest import document, extension, fhir_json, issues
from maillage.fhir.tests.expertise_helpers import QUESTION, ask_pool

pytestmark = pytest.mark.usefixtures("private_files")


def test_the_requester_reads_the_question_sent_to_a_pool(api, personas, dermatology):
    shared = document(personas.treating_doctor, personas.patient, title="Photo du dos")
    request = ask_pool(personas, dermatology, document_uuids=[shared.uuid])

    response = api.get(f"ServiceRequest/{request.uuid}", personas.treating_doctor)

    assert response.status_code == 200
    resource = fhir_json(response)
    assert resource["id"] == str(request.uuid)
    assert (resource["status"], resource["intent"], resource["priority"]) == (
        "active",
        "order",
        "asap",
    )
    assert resource["subject"]["reference"] == f"Patient/{personas.patient.uuid}"
    assert resource["requester"]["reference"] == f"Practitioner/{personas.treating_doctor.uuid}"
    assert resource["performer"] == [
        {
            "type": "CareTeam",
            "identifier": {"system": POOL_SYSTEM, "value": str(dermatology.pool.uuid)},
            "display": dermatology.pool.name,
        }
    ]
    assert resource["note"] == [{"text": QUESTION}]
    assert resource["supportingInfo"] == [{"reference": f"DocumentReference/{shared.uuid}"}]
    consent = extension(resource, ORAL_CONSENT_EXTENSION)
    parts = {e["url"]: e for e in consent["extension"]}
    assert parts["recorder"]["valueReference"]["reference"] == (
        f"Practitioner/{personas.treating_doctor.uuid}"
    )
    assert request.consent_recorded_at is not None
    assert parts["time"]["valueDateTime"].startswith(str(request.consent_recorded_at.date()))
    assert resource["meta"]["versionId"] == str(request.version)
    assert response["ETag"] == f'W/"{request.version}"'


def test_the_read_is_one_audit_entry_on_the_patient(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    api.token(dermatology.first)  # made (and audited) beforehand
    before = AuditEntry.objects.count()

    api.get(f"ServiceRequest/{request.uuid}", dermatology.first)

    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.latest("seq")
    assert (entry.action, entry.outcome, entry.actor) == (
        Action.EXPERTISE_READ,
        Outcome.GRANTED,
        dermatology.first.user,
    )
    assert entry.patient == personas.patient
    assert entry.detail["request"] == str(request.uuid)
    assert entry.detail["fhir"] == "ServiceRequest"


def test_a_claimed_request_shows_its_specialist_as_performer(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    actions.claim(dermatology.first.user, request.uuid)

    resource = fhir_json(api.get(f"ServiceRequest/{request.uuid}", personas.treating_doctor))

    assert resource["status"] == "active"
    assert resource["performer"][0]["reference"] == f"Practitioner/{dermatology.first.uuid}"


def test_a_stranger_gets_404_audited(api, personas, dermatology):
    request = ask_pool(personas, dermatology)

    response = api.get(f"ServiceRequest/{request.uuid}", personas.cardiologist)

    assert response.status_code == 404
    assert issues(response)[0]["code"] == "not-found"
    entry = AuditEntry.objects.latest("seq")
    assert (entry.action, entry.outcome, entry.actor) == (
        Action.EXPERTISE_READ,
        Outcome.DENIED,
        personas.cardiologist.user,
    )


def test_a_pool_member_no_longer_reads_it_once_a_colleague_took_it(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    assert api.get(f"ServiceRequest/{request.uuid}", dermatology.second).status_code == 200

    actions.claim(dermatology.first.user, request.uuid)

    assert api.get(f"ServiceRequest/{request.uuid}", dermatology.second).status_code == 404


def test_a_patient_token_gets_403_even_for_her_own_request(api, personas, dermatology):
    request = ask_pool(personas, dermatology)

    response = api.get(f"ServiceRequest/{request.uuid}", personas.patient_user)

    assert response.status_code == 403
    entry = AuditEntry.objects.latest("seq")
    assert (entry.action, entry.outcome, entry.detail["rule"]) == (
        Action.EXPERTISE_READ,
        Outcome.DENIED,
        "role",
    )


def test_an_unknown_or_malformed_id_is_404(api, personas, dermatology):
    assert api.get(f"ServiceRequest/{uuid.uuid4()}", personas.treating_doctor).status_code == 404
    assert api.get("ServiceRequest/not-an-id", personas.treating_doctor).status_code == 404


def test_a_draft_is_the_requesters_only(api, personas, dermatology):
    draft = actions.save_draft(
        personas.treating_doctor.user,
        personas.patient.uuid,
        actions.Ask(question=QUESTION, pool_uuid=dermatology.pool.uuid),
    )

    mine = api.get(f"ServiceRequest/{draft.uuid}", personas.treating_doctor)
    theirs = api.get(f"ServiceRequest/{draft.uuid}", dermatology.first)

    assert fhir_json(mine)["status"] == "draft"
    assert "extension" not in fhir_json(mine)  # no consent recorded yet
    assert theirs.status_code == 404
