"""POST ServiceRequest: a professional asks a tele-expertise, through save_draft and submit."""

from __future__ import annotations

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.directory.terminology import Specialty
from maillage.expertise.models import PoolKind, Request, Status
from maillage.fhir.mapping.service_request import ORAL_CONSENT_EXTENSION
from maillage.fhir.tests.conftest import document, fhir_json, issues
from maillage.fhir.tests.expertise_helpers import QUESTION, consent, pool_performer, service_request
from maillage.tasks.models import OutgoingMail
from maillage.testing import factories as f

pytestmark = pytest.mark.usefixtures("private_files")


def test_the_gp_asks_the_pool_and_its_task_exists_with_it(api, personas, dermatology):
    shared = document(personas.treating_doctor, personas.patient, title="Photo du dos")
    body = service_request(
        personas,
        pool_performer(dermatology.pool),
        supportingInfo=[{"reference": f"DocumentReference/{shared.uuid}"}],
    )

    response = api.post("ServiceRequest", body, personas.treating_doctor)

    assert response.status_code == 201, response.content
    created = fhir_json(response)
    request = Request.objects.get()
    assert response["Location"].endswith(f"/ServiceRequest/{request.uuid}")
    assert (request.status, request.question, request.priority.code) == (
        Status.WAITING,
        QUESTION,
        "soon",  # asap is the FHIR code of "soon" (data)
    )
    assert request.pool == dermatology.pool and request.assignee is None
    assert list(request.documents.all()) == [shared]
    assert request.consent_recorded_by == personas.treating_doctor.user
    assert created["status"] == "active"
    assert created["supportingInfo"] == [{"reference": f"DocumentReference/{shared.uuid}"}]
    # The pool's responders are told; the Task is there, waiting for them.
    assert set(OutgoingMail.objects.values_list("user__username", flat=True)) == {
        "dermato.un",
        "dermato.deux",
    }
    task = fhir_json(api.get(f"Task/{request.uuid}", dermatology.first))
    assert task["status"] == "requested"
    assert task["focus"]["reference"] == f"ServiceRequest/{request.uuid}"


def test_a_named_specialist_by_practitioner_or_role(api, personas, dermatology):
    role = dermatology.first.practices.get()
    by_role = service_request(personas, {"reference": f"PractitionerRole/{role.uuid}"})
    by_practitioner = service_request(
        personas, {"reference": f"Practitioner/{dermatology.second.uuid}"}, priority="stat"
    )

    first = api.post("ServiceRequest", by_role, personas.treating_doctor)
    second = api.post("ServiceRequest", by_practitioner, personas.treating_doctor)

    assert first.status_code == second.status_code == 201
    assigned = {r.assignee: r.priority.code for r in Request.objects.all()}
    # stat is the most urgent priority there is.
    assert assigned == {dermatology.first: "soon", dermatology.second: "urgent"}
    performer = fhir_json(first)["performer"][0]
    assert performer["reference"] == f"Practitioner/{dermatology.first.uuid}"


def test_without_consent_nothing_is_sent(api, personas, dermatology):
    body = service_request(personas, pool_performer(dermatology.pool), extension=None)

    response = api.post("ServiceRequest", body, personas.treating_doctor)

    assert response.status_code == 422
    issue = issues(response)[0]
    assert ORAL_CONSENT_EXTENSION in issue["diagnostics"]
    assert issue["expression"] == ["ServiceRequest.extension"]
    assert not Request.objects.exists()


def test_a_draft_is_kept_without_consent(api, personas, dermatology):
    body = service_request(
        personas, pool_performer(dermatology.pool), status="draft", extension=None
    )

    response = api.post("ServiceRequest", body, personas.treating_doctor)

    assert response.status_code == 201
    assert fhir_json(response)["status"] == "draft"
    assert Request.objects.get().status == Status.DRAFT
    assert not OutgoingMail.objects.exists()


def test_the_requester_and_the_consent_recorder_must_be_the_caller(api, personas, dermatology):
    someone_else = {"reference": f"Practitioner/{personas.cardiologist.uuid}"}
    as_other = service_request(personas, pool_performer(dermatology.pool), requester=someone_else)
    recorded_by_other = service_request(
        personas,
        pool_performer(dermatology.pool),
        extension=[consent(personas.cardiologist.uuid)],
    )
    in_the_future = service_request(
        personas,
        pool_performer(dermatology.pool),
        extension=[consent(personas.treating_doctor.uuid, "2999-01-01T10:00:00+01:00")],
    )

    for body in (as_other, recorded_by_other, in_the_future):
        response = api.post("ServiceRequest", body, personas.treating_doctor)
        assert response.status_code == 422, body
    assert not Request.objects.exists()


def test_bad_targets_and_priorities_are_422_at_their_element(api, personas, dermatology):
    cases = {
        "ServiceRequest.performer": service_request(
            personas, {"reference": f"Practitioner/{personas.cardiologist.uuid}"}
        ),
        "ServiceRequest.priority": service_request(
            personas, pool_performer(dermatology.pool), priority="routine-ish"
        ),
        "ServiceRequest.status": service_request(
            personas, pool_performer(dermatology.pool), status="completed"
        ),
    }
    two = service_request(personas, pool_performer(dermatology.pool))
    two["performer"] = [pool_performer(dermatology.pool)] * 2
    cases["ServiceRequest.performer "] = two

    for path, body in cases.items():
        response = api.post("ServiceRequest", body, personas.treating_doctor)
        assert response.status_code == 422, path
        assert issues(response)[0]["expression"] == [path.strip()]
    assert not Request.objects.exists()


def test_a_document_of_another_record_is_refused(api, personas, dermatology):
    other = f.patient("MARTIN", "Paul", treating_doctor=personas.treating_doctor)
    elsewhere = document(personas.treating_doctor, other)
    body = service_request(
        personas,
        pool_performer(dermatology.pool),
        supportingInfo=[{"reference": f"DocumentReference/{elsewhere.uuid}"}],
    )

    response = api.post("ServiceRequest", body, personas.treating_doctor)

    assert response.status_code == 422
    assert issues(response)[0]["expression"] == ["ServiceRequest.supportingInfo"]
    assert not Request.objects.exists()


def test_a_professional_without_the_patient_cannot_ask_about_her(api, personas, dermatology):
    body = service_request(
        personas,
        pool_performer(dermatology.pool),
        requester={"reference": f"Practitioner/{personas.cardiologist.uuid}"},
        extension=[consent(personas.cardiologist.uuid)],
    )

    response = api.post("ServiceRequest", body, personas.cardiologist)

    assert response.status_code == 404
    assert not Request.objects.exists()
    entry = AuditEntry.objects.filter(action=Action.EXPERTISE_ASK).latest("seq")
    assert (entry.outcome, entry.actor) == (Outcome.DENIED, personas.cardiologist.user)


def test_a_patient_or_an_analyst_may_not_ask(api, personas, dermatology):
    body = service_request(personas, pool_performer(dermatology.pool))

    assert api.post("ServiceRequest", body, personas.patient_user).status_code == 403
    assert api.post("ServiceRequest", body, personas.analyst).status_code == 403
    assert not Request.objects.exists()


def test_what_is_not_kept_is_named(api, personas, dermatology):
    body = service_request(
        personas,
        pool_performer(dermatology.pool),
        occurrenceDateTime="2026-12-01T10:00:00+01:00",
    )

    response = api.post("ServiceRequest", body, personas.treating_doctor)

    assert response.status_code == 201
    assert "ServiceRequest.occurrenceDateTime" in response["Warning"]


def test_an_invalid_resource_is_a_400(api, personas, dermatology):
    assert api.post("ServiceRequest", "{", personas.treating_doctor).status_code == 400
    wrong = {"resourceType": "ServiceRequest", "status": "active"}  # no intent, no subject
    assert api.post("ServiceRequest", wrong, personas.treating_doctor).status_code == 400


def test_the_consent_time_sent_is_the_one_kept(api, personas, dermatology):
    body = service_request(
        personas,
        pool_performer(dermatology.pool),
        extension=[consent(personas.treating_doctor.uuid, "2026-11-30T09:00:00+01:00")],
    )

    response = api.post("ServiceRequest", body, personas.treating_doctor)

    assert response.status_code == 201
    recorded = Request.objects.get().consent_recorded_at
    assert recorded is not None and recorded.isoformat() == "2026-11-30T08:00:00+00:00"
    shown = fhir_json(response)["extension"][0]["extension"]
    assert {"url": "time", "valueDateTime": "2026-11-30T08:00:00Z"} in shown


def test_an_organization_means_its_team(api, personas, dermatology):
    team = f.pool(
        "Dermatologie du CH",
        Specialty.DERMATOLOGY,
        (dermatology.first,),
        kind=PoolKind.TEAM,
        structure=personas.hospital,
    )
    body = service_request(personas, {"reference": f"Organization/{personas.hospital.uuid}"})
    nowhere = service_request(personas, {"reference": f"Organization/{personas.msp.uuid}"})

    response = api.post("ServiceRequest", body, personas.treating_doctor)
    refused = api.post("ServiceRequest", nowhere, personas.treating_doctor)

    assert response.status_code == 201
    assert Request.objects.get().pool == team
    assert refused.status_code == 422
    assert "CareTeam" in issues(refused)[0]["diagnostics"]
    found = api.get(
        f"ServiceRequest?performer=Organization/{personas.hospital.uuid}", dermatology.first
    )
    assert [e["resource"]["id"] for e in fhir_json(found)["entry"]] == [fhir_json(response)["id"]]
