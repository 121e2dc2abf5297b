"""Task read and search: the workflow of a request, for its participants only."""

from __future__ import annotations

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.expertise import actions
from maillage.expertise.models import Recommendation
from maillage.fhir.mapping.service_request import POOL_SYSTEM
from maillage.fhir.mapping.task import OUTPUT_SYSTEM, RECOMMENDATION_SYSTEM, STATUS_SYSTEM
from maillage.fhir.tests.conftest import fhir_json, issues
from maillage.fhir.tests.expertise_helpers import ask_pool

pytestmark = pytest.mark.usefixtures("private_files")


def ids(response) -> list[str]:
    return [
        e["resource"]["id"]
        for e in fhir_json(response).get("entry", [])
        if e["search"]["mode"] == "match"
    ]


def test_a_waiting_request_is_a_requested_task_owned_by_the_pool(api, personas, dermatology):
    request = ask_pool(personas, dermatology)

    response = api.get(f"Task/{request.uuid}", dermatology.second)

    assert response.status_code == 200
    task = fhir_json(response)
    assert task["id"] == str(request.uuid)
    assert (task["status"], task["intent"], task["priority"]) == ("requested", "order", "asap")
    assert task["businessStatus"]["coding"][0] == {"system": STATUS_SYSTEM, "code": "waiting"}
    assert task["focus"] == {"reference": f"ServiceRequest/{request.uuid}"}
    assert task["for"] == {"reference": f"Patient/{personas.patient.uuid}"}
    assert task["requester"]["reference"] == f"Practitioner/{personas.treating_doctor.uuid}"
    assert task["owner"]["identifier"] == {
        "system": POOL_SYSTEM,
        "value": str(dermatology.pool.uuid),
    }
    assert request.due_at is not None
    assert task["restriction"]["period"]["end"].startswith(str(request.due_at.date()))
    assert "output" not in task
    entry = AuditEntry.objects.latest("seq")
    assert (entry.action, entry.outcome, entry.detail["fhir"]) == (
        Action.EXPERTISE_READ,
        Outcome.GRANTED,
        "Task",
    )


def test_a_concluded_task_outputs_the_conclusion_and_the_filed_opinion(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    specialist = dermatology.first.user
    actions.claim(specialist, request.uuid)
    actions.conclude(
        specialist,
        request.uuid,
        actions.Conclusion("Exérèse en consultation.", Recommendation.CONSULTATION),
    )
    request.refresh_from_db()

    task = fhir_json(api.get(f"Task/{request.uuid}", personas.treating_doctor))

    assert task["status"] == "completed"
    assert task["owner"]["reference"] == f"Practitioner/{dermatology.first.uuid}"
    outputs = {o["type"]["coding"][0]["code"]: o for o in task["output"]}
    assert all(o["type"]["coding"][0]["system"] == OUTPUT_SYSTEM for o in task["output"])
    assert outputs["conclusion"]["valueString"] == "Exérèse en consultation."
    assert outputs["recommendation"]["valueCodeableConcept"]["coding"][0] == {
        "system": RECOMMENDATION_SYSTEM,
        "code": "consultation",
    }
    opinion = outputs["opinion"]["valueReference"]["reference"]
    assert request.opinion is not None
    assert opinion == f"DocumentReference/{request.opinion.uuid}"
    # The GP reads the filed opinion through the record's gate.
    assert api.get(opinion, personas.treating_doctor).status_code == 200


def test_strangers_pool_members_after_a_claim_and_patients_are_refused(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    actions.claim(dermatology.first.user, request.uuid)

    assert api.get(f"Task/{request.uuid}", personas.cardiologist).status_code == 404
    assert api.get(f"Task/{request.uuid}", dermatology.second).status_code == 404
    assert api.get(f"Task/{request.uuid}", personas.patient_user).status_code == 403
    assert issues(api.get(f"Task/{request.uuid}", dermatology.second))[0]["code"] == "not-found"


def test_search_by_focus_owner_status_and_patient(api, personas, dermatology):
    waiting = ask_pool(personas, dermatology)
    taken = ask_pool(personas, dermatology)
    me = dermatology.first
    actions.claim(me.user, taken.uuid)

    assert ids(api.get(f"Task?focus=ServiceRequest/{waiting.uuid}", me)) == [str(waiting.uuid)]
    pool = f"Task?owner=CareTeam/{dermatology.pool.uuid}&status=requested"
    assert ids(api.get(pool, me)) == [str(waiting.uuid)]
    mine = f"Task?owner=Practitioner/{me.uuid}&status=accepted,on-hold"
    assert ids(api.get(mine, me)) == [str(taken.uuid)]
    assert set(ids(api.get(f"Task?patient={personas.patient.uuid}", me))) == {
        str(waiting.uuid),
        str(taken.uuid),
    }
    # The other member sees the pool's waiting request only.
    assert ids(api.get("Task", dermatology.second)) == [str(waiting.uuid)]
    assert ids(api.get("Task", personas.cardiologist)) == []


def test_search_refuses_what_it_does_not_know(api, personas, dermatology):
    me = personas.treating_doctor

    assert api.get("Task?status=busy", me).status_code == 400
    assert api.get("Task?focus=Patient/x", me).status_code == 400
    assert api.get("Task?owner=Patient/x", me).status_code == 400
    assert api.get("Task", personas.patient_user).status_code == 403


def test_search_includes_the_service_request_and_revincludes_the_exchanges(
    api, personas, dermatology
):
    request = ask_pool(personas, dermatology)

    response = api.get(
        f"Task?focus=ServiceRequest/{request.uuid}&_include=Task:focus"
        "&_revinclude=Communication:part-of",
        personas.treating_doctor,
    )

    kinds = [
        (e["resource"]["resourceType"], e["search"]["mode"]) for e in fhir_json(response)["entry"]
    ]
    assert kinds == [
        ("Task", "match"),
        ("ServiceRequest", "include"),
        ("Communication", "include"),  # the question
    ]


def test_search_sorts_by_when_it_was_sent(api, personas, dermatology):
    first = ask_pool(personas, dermatology)
    second = ask_pool(personas, dermatology)
    me = personas.treating_doctor

    oldest_first = ids(api.get("Task?_sort=authored-on", me))
    newest_first = ids(api.get("Task?_sort=-authored-on", me))

    assert oldest_first == [str(first.uuid), str(second.uuid)]
    assert newest_first == [str(second.uuid), str(first.uuid)]
    assert api.get("Task?_sort=authored", me).status_code == 400


def test_status_alternatives_are_separated_by_commas(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    me = personas.treating_doctor

    with_system = api.get("Task?status=http://hl7.org/fhir/task-status|requested", me)
    piped = api.get("Task?status=requested|accepted", me)

    assert ids(with_system) == [str(request.uuid)]
    # "requested|accepted" would be the code accepted of a system "requested": refused, not guessed.
    assert piped.status_code == 400
