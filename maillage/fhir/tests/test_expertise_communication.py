"""Communication for a tele-expertise's exchanges: partOf its Task, beside the secure messages."""

from __future__ import annotations

import base64
import uuid

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.expertise import actions
from maillage.expertise.models import MessageKind, Status
from maillage.expertise.tests.conftest import PDF
from maillage.fhir.mapping.expertise_communication import KIND_SYSTEM
from maillage.fhir.tests.conftest import fhir_json, issues
from maillage.fhir.tests.expertise_helpers import ask_pool
from maillage.messaging.tests.conftest import send_about_patient

pytestmark = pytest.mark.usefixtures("private_files")


def matches(response) -> list[dict]:
    return [
        e["resource"]
        for e in fhir_json(response).get("entry", [])
        if e["search"]["mode"] == "match"
    ]


def step(request, author_text: str, task_id: object, **changes) -> dict:
    body = {
        "resourceType": "Communication",
        "status": "completed",
        "partOf": [{"reference": f"Task/{task_id}"}],
        "payload": [{"contentString": author_text}],
    }
    body.update(changes)
    return body


def test_the_question_is_the_first_communication_of_the_task(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    question = request.messages.get()

    response = api.get(f"Communication/{question.uuid}", dermatology.second)

    assert response.status_code == 200
    resource = fhir_json(response)
    assert resource["partOf"] == [{"reference": f"Task/{request.uuid}"}]
    assert resource["about"] == [{"reference": f"ServiceRequest/{request.uuid}"}]
    assert resource["subject"]["reference"] == f"Patient/{personas.patient.uuid}"
    assert resource["category"][0]["coding"][0] == {"system": KIND_SYSTEM, "code": "question"}
    assert resource["sender"]["reference"] == f"Practitioner/{personas.treating_doctor.uuid}"
    assert resource["recipient"][0]["type"] == "CareTeam"  # the pool
    assert resource["payload"][0]["contentString"] == request.question
    attached = resource["payload"][1]["contentAttachment"]
    assert attached["title"] == "lesion.pdf"
    # The file is a Binary the participants read, through the request's gate.
    binary = api.get(attached["url"].split("/fhir/r4/")[1], dermatology.second)
    assert binary.status_code == 200 and binary.content == PDF
    assert api.get(attached["url"].split("/fhir/r4/")[1], personas.cardiologist).status_code == 404
    entry = AuditEntry.objects.filter(action=Action.EXPERTISE_READ).latest("seq")
    assert (entry.actor, entry.outcome) == (personas.cardiologist.user, Outcome.DENIED)


def test_strangers_and_patients_do_not_read_a_step(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    question = request.messages.get()
    actions.claim(dermatology.first.user, request.uuid)

    assert api.get(f"Communication/{question.uuid}", personas.cardiologist).status_code == 404
    assert api.get(f"Communication/{question.uuid}", dermatology.second).status_code == 404
    assert api.get(f"Communication/{question.uuid}", personas.patient_user).status_code == 403
    assert api.get(f"Communication/{uuid.uuid4()}", personas.treating_doctor).status_code == 404


def test_secure_messages_are_still_read_through_their_own_gate(api, personas, dermatology):
    ask_pool(personas, dermatology)
    message = send_about_patient(personas)

    response = api.get(f"Communication/{message.uuid}", personas.treating_doctor)

    assert response.status_code == 200
    assert "partOf" not in fhir_json(response)
    assert api.get(f"Communication/{message.uuid}", dermatology.first).status_code == 404
    # A search without part-of is the secure messages' search, as before.
    found = matches(api.get("Communication", personas.treating_doctor))
    assert [r["id"] for r in found] == [str(message.uuid)]


def test_search_by_part_of_lists_the_conversation_in_order(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    specialist = dermatology.first.user
    actions.claim(specialist, request.uuid)
    actions.ask_for_more(specialist, request.uuid, "Diamètre ?")
    actions.reply(personas.treating_doctor.user, request.uuid, "8 mm.")

    response = api.get(f"Communication?part-of=Task/{request.uuid}", personas.treating_doctor)

    kinds = [r["category"][0]["coding"][0]["code"] for r in matches(response)]
    assert kinds == ["question", "claimed", "info_request", "reply"]
    found = matches(response)
    assert found[3]["inResponseTo"] == [{"reference": f"Communication/{found[2]['id']}"}]
    assert found[2]["recipient"][0]["reference"] == (
        f"Practitioner/{personas.treating_doctor.uuid}"
    )
    by_sender = api.get(
        f"Communication?part-of=Task/{request.uuid}&sender=Practitioner/{dermatology.first.uuid}",
        personas.treating_doctor,
    )
    assert [r["category"][0]["coding"][0]["code"] for r in matches(by_sender)] == [
        "claimed",
        "info_request",
    ]
    assert (
        matches(api.get(f"Communication?part-of=Task/{request.uuid}", personas.cardiologist)) == []
    )
    assert (
        api.get(f"Communication?part-of=Task/{request.uuid}", personas.patient_user).status_code
        == 403
    )


def test_the_specialist_answers_and_the_gp_replies_by_post(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    specialist = dermatology.first
    actions.claim(specialist.user, request.uuid)
    photo = {
        "contentAttachment": {
            "contentType": "application/pdf",
            "title": "dermoscopie.pdf",
            "data": base64.b64encode(PDF).decode(),
        }
    }
    asks = step(
        request,
        "Photo dermatoscopique ?",
        request.uuid,
        category=[{"coding": [{"system": KIND_SYSTEM, "code": "info_request"}]}],
    )

    asked = api.post("Communication", asks, specialist)

    assert asked.status_code == 201, asked.content
    request.refresh_from_db()
    assert request.status == Status.ON_HOLD
    assert fhir_json(asked)["sender"]["reference"] == f"Practitioner/{specialist.uuid}"

    reply = step(request, "La voici.", request.uuid)
    reply["payload"].append(photo)
    replied = api.post("Communication", reply, personas.treating_doctor)

    assert replied.status_code == 201, replied.content
    created = fhir_json(replied)
    assert replied["Location"].endswith(f"/Communication/{created['id']}")
    assert created["category"][0]["coding"][0]["code"] == "reply"
    assert created["payload"][1]["contentAttachment"]["title"] == "dermoscopie.pdf"
    request.refresh_from_db()
    assert request.status == Status.CLAIMED  # the clock runs again

    answered = api.post("Communication", step(request, "Bénin.", request.uuid), specialist)
    assert answered.status_code == 201
    assert request.messages.latest("pk").kind == MessageKind.ANSWER


def test_a_pool_member_answers_only_once_she_took_it(api, personas, dermatology):
    request = ask_pool(personas, dermatology)

    before = api.post("Communication", step(request, "Bénin.", request.uuid), dermatology.second)

    assert before.status_code == 404
    assert request.messages.count() == 1
    refused = AuditEntry.objects.filter(action=Action.EXPERTISE_WRITE).latest("seq")
    assert (refused.actor, refused.outcome) == (dermatology.second.user, Outcome.DENIED)


def test_strangers_and_patients_write_nothing(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    body = step(request, "Bonjour", request.uuid)

    assert api.post("Communication", body, personas.cardiologist).status_code == 404
    assert api.post("Communication", body, personas.patient_user).status_code == 403
    assert request.messages.count() == 1


def test_a_communication_that_is_no_step_is_refused(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    gp = personas.treating_doctor
    no_task = step(request, "Bonjour", request.uuid, partOf=None)
    del no_task["partOf"]
    empty = step(request, "", request.uuid, payload=[])

    refused = api.post("Communication", no_task, gp)
    assert refused.status_code == 422
    assert issues(refused)[0]["expression"] == ["Communication.partOf"]
    blank = api.post("Communication", empty, gp)
    assert blank.status_code == 422
    assert issues(blank)[0]["expression"] == ["Communication.payload"]
    assert request.messages.count() == 1


def test_a_secretary_cannot_tell_a_step_from_nothing(api, personas, dermatology):
    request = ask_pool(personas, dermatology)
    question = request.messages.get()
    secretary = personas.coordinator

    step_read = api.get(f"Communication/{question.uuid}", secretary)
    nothing = api.get(f"Communication/{uuid.uuid4()}", secretary)

    assert step_read.status_code == nothing.status_code == 404
    refused = AuditEntry.objects.filter(action=Action.EXPERTISE_READ).latest("seq")
    assert (refused.actor, refused.outcome, refused.detail["rule"]) == (
        secretary,
        Outcome.DENIED,
        "role",
    )
