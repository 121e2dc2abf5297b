"""PUT and PATCH Task: the workflow driven by the status, each step by the side that may."""

from __future__ import annotations

import json

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.expertise import actions
from maillage.expertise.models import MessageKind, Recommendation, Request, Status
from maillage.fhir.mapping.task import OUTPUT_SYSTEM, RECOMMENDATION_SYSTEM
from maillage.fhir.tests.conftest import fhir_json, issues
from maillage.fhir.tests.expertise_helpers import ask_pool, merge_patch, send

pytestmark = pytest.mark.usefixtures("private_files")


def task_of(api, request, who) -> dict:
    return fhir_json(api.get(f"Task/{request.uuid}", who))


def conclusion_outputs(text: str, recommendation: str) -> list[dict]:
    return [
        {
            "type": {"coding": [{"system": OUTPUT_SYSTEM, "code": "conclusion"}]},
            "valueString": text,
        },
        {
            "type": {"coding": [{"system": OUTPUT_SYSTEM, "code": "recommendation"}]},
            "valueCodeableConcept": {
                "coding": [{"system": RECOMMENDATION_SYSTEM, "code": recommendation}]
            },
        },
    ]


def test_a_pool_member_accepts_by_patch_and_the_other_then_cannot(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    path = f"Task/{request.uuid}"
    api.token(dermatology.first)

    response = merge_patch(api, path, {"status": "accepted"}, dermatology.first)

    assert response.status_code == 200, response.content
    task = fhir_json(response)
    assert task["status"] == "accepted"
    assert task["owner"]["reference"] == f"Practitioner/{dermatology.first.uuid}"
    assert response["ETag"] == f'W/"{task["meta"]["versionId"]}"'
    request.refresh_from_db()
    assert (request.status, request.assignee) == (Status.CLAIMED, dermatology.first)
    # One call, one entry: the claim's (the Task read to merge the patch is part of it).
    steps = AuditEntry.objects.filter(actor=dermatology.first.user).order_by("seq")
    assert [(e.action, e.outcome) for e in steps.filter(patient=personas.patient)] == [
        (Action.EXPERTISE_WRITE, Outcome.GRANTED),
    ]

    late = merge_patch(api, path, {"status": "accepted"}, dermatology.second)

    assert late.status_code == 404
    assert issues(late)[0]["code"] == "not-found"


def test_ask_for_more_then_the_reply_then_conclude_by_put(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    specialist = dermatology.first
    actions.claim(specialist.user, request.uuid)
    path = f"Task/{request.uuid}"

    held = task_of(api, request, specialist)
    held["status"] = "on-hold"
    held["note"] = [{"text": "Diamètre ? Photo dermatoscopique ?"}]
    response = send(api, "PUT", path, held, specialist)

    assert response.status_code == 200, response.content
    assert fhir_json(response)["status"] == "on-hold"
    request.refresh_from_db()
    assert request.status == Status.ON_HOLD
    assert request.messages.latest("pk").kind == MessageKind.INFO_REQUEST

    actions.reply(personas.treating_doctor.user, request.uuid, "8 mm, bords irréguliers.")
    done = task_of(api, request, specialist)
    assert done["status"] == "accepted"
    done["status"] = "completed"
    done["output"] = conclusion_outputs("Exérèse recommandée.", "consultation")
    response = send(
        api, "PUT", path, done, specialist, HTTP_IF_MATCH=f'W/"{done["meta"]["versionId"]}"'
    )

    assert response.status_code == 200, response.content
    task = fhir_json(response)
    request.refresh_from_db()
    assert (request.status, request.conclusion, request.recommendation) == (
        Status.CONCLUDED,
        "Exérèse recommandée.",
        Recommendation.CONSULTATION,
    )
    assert request.opinion is not None
    outputs = {o["type"]["coding"][0]["code"]: o for o in task["output"]}
    assert outputs["opinion"]["valueReference"]["reference"] == (
        f"DocumentReference/{request.opinion.uuid}"
    )


def test_a_put_of_the_same_task_changes_nothing(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    task = task_of(api, request, personas.treating_doctor)

    response = send(api, "PUT", f"Task/{request.uuid}", task, personas.treating_doctor)

    assert response.status_code == 200
    assert fhir_json(response)["meta"]["versionId"] == task["meta"]["versionId"]
    request.refresh_from_db()
    assert request.status == Status.WAITING


def test_the_requester_cannot_complete_nor_accept(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    actions.claim(dermatology.first.user, request.uuid)
    gp = personas.treating_doctor
    path = f"Task/{request.uuid}"
    completed = {"status": "completed", "output": conclusion_outputs("Rien.", "none")}

    assert merge_patch(api, path, completed, gp).status_code == 404
    request.refresh_from_db()
    assert request.status == Status.CLAIMED
    refused = AuditEntry.objects.filter(action=Action.EXPERTISE_WRITE, actor=gp.user).latest("seq")
    assert (refused.outcome, refused.detail["rule"]) == (Outcome.DENIED, "not_participant")


def test_the_specialist_cannot_cancel_but_the_requester_can(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    actions.claim(dermatology.first.user, request.uuid)
    path = f"Task/{request.uuid}"
    cancelled = {"status": "cancelled", "note": [{"text": "Vu en consultation entre-temps."}]}

    assert merge_patch(api, path, cancelled, dermatology.first).status_code == 404
    response = merge_patch(api, path, cancelled, personas.treating_doctor)

    assert response.status_code == 200
    assert fhir_json(response)["status"] == "cancelled"
    request.refresh_from_db()
    assert request.status == Status.CANCELLED
    assert request.messages.latest("pk").body == "Vu en consultation entre-temps."
    sr = fhir_json(api.get(f"ServiceRequest/{request.uuid}", personas.treating_doctor))
    assert sr["status"] == "revoked"


def test_strangers_and_patients_change_nothing(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    path = f"Task/{request.uuid}"

    assert merge_patch(api, path, {"status": "accepted"}, personas.cardiologist).status_code == 404
    assert merge_patch(api, path, {"status": "accepted"}, personas.patient_user).status_code == 403
    request.refresh_from_db()
    assert request.status == Status.WAITING


def test_changes_the_workflow_does_not_have(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    specialist = dermatology.first
    path = f"Task/{request.uuid}"

    in_progress = merge_patch(api, path, {"status": "in-progress"}, specialist)
    assert in_progress.status_code == 422
    assert issues(in_progress)[0]["expression"] == ["Task.status"]
    # A pool member asks for more only once she took it: until then it is not hers.
    early = merge_patch(api, path, {"status": "on-hold", "note": [{"text": "?"}]}, specialist)
    assert early.status_code == 404
    actions.claim(specialist.user, request.uuid)
    no_text = merge_patch(api, path, {"status": "on-hold"}, specialist)
    assert no_text.status_code == 422
    assert issues(no_text)[0]["expression"] == ["Task.note"]
    no_conclusion = merge_patch(api, path, {"status": "completed"}, specialist)
    assert no_conclusion.status_code == 422
    bad = merge_patch(
        api,
        path,
        {"status": "completed", "output": conclusion_outputs("Vu.", "surgery")},
        specialist,
    )
    assert bad.status_code == 422
    request.refresh_from_db()
    assert request.status == Status.CLAIMED
    # Once concluded, asking for more is a state conflict, said in words.
    actions.conclude(specialist.user, request.uuid, actions.Conclusion("Vu."))
    late = merge_patch(api, path, {"status": "on-hold", "note": [{"text": "?"}]}, specialist)
    assert late.status_code == 409
    assert issues(late)[0]["code"] == "conflict"


def test_if_match_on_a_stale_version_is_412(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    seen = task_of(api, request, dermatology.first)
    actions.claim(dermatology.second.user, request.uuid)
    seen["status"] = "accepted"

    response = send(
        api,
        "PUT",
        f"Task/{request.uuid}",
        seen,
        personas.treating_doctor,
        HTTP_IF_MATCH=f'W/"{seen["meta"]["versionId"]}"',
    )

    assert response.status_code == 412


def test_a_new_owner_hands_it_over(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    actions.claim(dermatology.first.user, request.uuid)
    owner = {"reference": f"Practitioner/{dermatology.second.uuid}"}

    response = merge_patch(api, f"Task/{request.uuid}", {"owner": owner}, dermatology.first)

    assert response.status_code == 200, response.content
    task = fhir_json(response)
    assert task["status"] == "requested"
    assert task["owner"]["reference"] == f"Practitioner/{dermatology.second.uuid}"
    assert Request.objects.get().assignee == dermatology.second


def test_bodies_that_are_no_task_are_400(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    path = f"Task/{request.uuid}"
    gp = personas.treating_doctor

    assert send(api, "PUT", path, "{", gp).status_code == 400
    other_id = {"resourceType": "Task", "id": "x", "status": "accepted", "intent": "order"}
    assert send(api, "PUT", path, other_id, gp).status_code == 400
    patch = json.dumps([{"op": "replace", "path": "/status", "value": 3}])
    assert (
        send(api, "PATCH", path, patch, gp, content_type="application/json-patch+json").status_code
        == 400
    )


def test_a_note_without_a_change_of_status_is_named_not_kept(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    actions.claim(dermatology.first.user, request.uuid)
    version = Request.objects.get().version

    response = merge_patch(
        api, f"Task/{request.uuid}", {"note": [{"text": "Je regarde."}]}, dermatology.first
    )

    assert response.status_code == 200
    assert response["Warning"] == '299 maillage "Not kept: Task.note"'
    assert Request.objects.get().version == version


def test_the_requester_sends_her_draft_by_its_task(api, personas, dermatology):
    gp = personas.treating_doctor
    draft = actions.save_draft(
        gp.user,
        personas.patient.uuid,
        actions.Ask(question="Prurit diffus ?", pool_uuid=dermatology.pool.uuid),
    )
    path = f"Task/{draft.uuid}"

    assert fhir_json(api.get(path, gp))["status"] == "draft"
    assert merge_patch(api, path, {"status": "requested"}, dermatology.first).status_code == 404
    unconsented = merge_patch(api, path, {"status": "requested"}, gp)
    assert unconsented.status_code == 422
    assert issues(unconsented)[0]["expression"] == ["Task.focus"]
    actions.save_draft(
        gp.user,
        personas.patient.uuid,
        actions.Ask(question="Prurit diffus ?", pool_uuid=dermatology.pool.uuid, consent=True),
        draft.uuid,
    )

    sent = merge_patch(api, path, {"status": "requested"}, gp)

    assert sent.status_code == 200, sent.content
    assert fhir_json(sent)["status"] == "requested"
    assert Request.objects.get().status == Status.WAITING
    assert fhir_json(api.get(path, dermatology.first))["status"] == "requested"


def test_a_json_patch_takes_it_too(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    operations = [
        {"op": "test", "path": "/status", "value": "requested"},
        {"op": "replace", "path": "/status", "value": "accepted"},
    ]

    response = send(
        api,
        "PATCH",
        f"Task/{request.uuid}",
        operations,
        dermatology.second,
        content_type="application/json-patch+json",
    )

    assert response.status_code == 200, response.content
    assert Request.objects.get().assignee == dermatology.second
    # The same patch again no longer applies: the Task is accepted now.
    again = send(
        api,
        "PATCH",
        f"Task/{request.uuid}",
        operations,
        dermatology.second,
        content_type="application/json-patch+json",
    )
    assert again.status_code == 422


def test_a_call_that_changes_nothing_or_is_refused_leaves_one_entry(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    specialist = dermatology.first
    actions.claim(specialist.user, request.uuid)
    path = f"Task/{request.uuid}"
    current = task_of(api, request, specialist)

    def entries() -> list[tuple[str, str]]:
        found = AuditEntry.objects.filter(actor=specialist.user, patient=personas.patient)
        return list(found.order_by("seq").values_list("action", "outcome"))

    before = len(entries())
    same = send(api, "PUT", path, current, specialist)
    assert same.status_code == 200, same.content
    assert entries()[before:] == [(Action.EXPERTISE_READ, Outcome.GRANTED)]

    wrong = dict(current, status="rejected")
    refused = send(api, "PUT", path, wrong, specialist)
    assert refused.status_code == 422
    assert entries()[before + 1 :] == [(Action.EXPERTISE_READ, Outcome.GRANTED)]
    request.refresh_from_db()
    assert request.status == Status.CLAIMED
