"""Communication read: a secure message, for the participants of its thread only."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.mapping.communication import MESSAGE_ID_SYSTEM
from maillage.fhir.tests.conftest import FHIR_JSON, fhir_json, issues
from maillage.messaging import actions
from maillage.messaging.models import Message
from maillage.messaging.tests.conftest import PDF
from maillage.messaging.tests.conftest import send_about_patient as _about_patient
from maillage.policy.messages import get_thread

pytestmark = pytest.mark.usefixtures("private_files")


def test_a_recipient_reads_the_message_with_its_text_attachment_and_parties(api, personas):
    message = _about_patient(personas)

    response = api.get(f"Communication/{message.uuid}", personas.treating_doctor)

    assert response.status_code == 200
    resource = fhir_json(response)
    assert resource["id"] == str(message.uuid)
    assert resource["status"] == "completed"
    assert resource["subject"]["reference"] == f"Patient/{personas.patient.uuid}"
    assert resource["topic"]["text"] == "Pansement de Mme Girard"
    assert resource["sender"]["reference"] == f"Practitioner/{personas.nurse.uuid}"
    assert [r["reference"] for r in resource["recipient"]] == [
        f"Practitioner/{personas.treating_doctor.uuid}"
    ]
    assert resource["payload"][0] == {"contentString": "Plaie du talon à revoir."}
    attached = resource["payload"][1]["contentAttachment"]
    assert attached["contentType"] == "application/pdf"
    assert attached["title"] == "liaison.pdf"
    assert attached["size"] == len(PDF)
    sha256 = base64.b64encode(hashlib.sha256(PDF).digest()).decode("ascii")
    assert attached["extension"][0]["valueBase64Binary"] == sha256
    assert "received" not in resource  # nobody has opened it yet
    assert "inResponseTo" not in resource
    assert "identifier" not in resource  # it stayed inside Maillage


def test_the_read_is_audited_on_the_patient(api, personas):
    message = _about_patient(personas)

    api.get(f"Communication/{message.uuid}", personas.treating_doctor)

    entry = AuditEntry.objects.filter(action=Action.MESSAGE_READ).latest("seq")
    assert entry.patient == personas.patient
    assert entry.actor == personas.treating_doctor.user
    assert (entry.outcome, entry.basis) == (Outcome.GRANTED, "recipient")
    assert entry.detail["fhir"] == "Communication"
    assert entry.detail["message"] == str(message.uuid)


def test_received_is_when_the_recipient_opened_the_thread(api, personas):
    message = _about_patient(personas)
    thread = get_thread(personas.treating_doctor.user, message.thread.uuid)
    actions.mark_read(personas.treating_doctor.user, thread)
    opened = message.deliveries.get().read_at
    assert opened is not None

    as_recipient = fhir_json(api.get(f"Communication/{message.uuid}", personas.treating_doctor))
    as_sender = fhir_json(api.get(f"Communication/{message.uuid}", personas.nurse))

    assert dt.datetime.fromisoformat(as_recipient["received"]) == opened
    assert dt.datetime.fromisoformat(as_sender["received"]) == opened


def test_reading_through_the_api_sets_no_read_receipt(api, personas):
    message = _about_patient(personas)

    api.get(f"Communication/{message.uuid}", personas.treating_doctor)

    assert message.deliveries.get().read_at is None


def test_a_reply_points_to_the_message_it_answers(api, personas):
    first = _about_patient(personas)
    thread = get_thread(personas.treating_doctor.user, first.thread.uuid, Action.MESSAGE_SEND)
    answer = actions.reply(personas.treating_doctor.user, thread, "Je passe jeudi.")

    resource = fhir_json(api.get(f"Communication/{answer.uuid}", personas.nurse))

    assert resource["inResponseTo"] == [{"reference": f"Communication/{first.uuid}"}]
    assert resource["sender"]["reference"] == f"Practitioner/{personas.treating_doctor.uuid}"


def test_a_mail_of_the_gateway_carries_its_message_id(api, personas):
    message = _about_patient(personas)
    Message.objects.filter(pk=message.pk).update(message_id="<abc.123@maillage.example>")

    resource = fhir_json(api.get(f"Communication/{message.uuid}", personas.nurse))

    assert resource["identifier"] == [
        {"system": MESSAGE_ID_SYSTEM, "value": "<abc.123@maillage.example>"}
    ]


def test_a_professional_outside_the_thread_gets_404_and_the_attempt_is_audited(api, personas):
    message = _about_patient(personas)

    response = api.get(f"Communication/{message.uuid}", personas.cardiologist)

    assert response.status_code == 404
    assert issues(response)[0]["code"] == "not-found"
    entry = AuditEntry.objects.filter(action=Action.MESSAGE_READ).latest("seq")
    assert (entry.actor, entry.patient) == (personas.cardiologist.user, personas.patient)
    assert entry.outcome == Outcome.DENIED


def test_the_medecin_traitant_of_the_patient_sees_nothing_of_a_thread_she_is_not_in(api, personas):
    """Messaging is not the shared record: a relation to the patient opens no thread."""
    message = actions.send_message(
        personas.nurse.user,
        actions.Draft(
            subject="Avis",
            body="Un avis sur Mme Girard.",
            professionals=[personas.cardiologist],
            patient_uuid=personas.patient.uuid,
        ),
    )

    assert api.get(f"Communication/{message.uuid}", personas.treating_doctor).status_code == 404


@pytest.mark.parametrize("who", ["patient_user", "analyst"])
def test_roles_without_messaging_get_403_audited(api, personas, who):
    message = _about_patient(personas)
    user = getattr(personas, who)

    response = api.get(f"Communication/{message.uuid}", user)

    assert response.status_code == 403
    assert issues(response)[0]["code"] == "forbidden"
    entry = AuditEntry.objects.filter(action=Action.MESSAGE_READ).latest("seq")
    assert (entry.actor, entry.outcome) == (user, Outcome.DENIED)


def test_unknown_ids_are_not_found(api, personas):
    assert api.get(f"Communication/{uuid.uuid4()}", personas.nurse).status_code == 404
    assert api.get("Communication/pas-un-id", personas.nurse).status_code == 404


def test_without_a_token_it_answers_401(api, personas):
    message = _about_patient(personas)

    assert api.get(f"Communication/{message.uuid}").status_code == 401


def test_the_attachment_url_serves_the_file_to_a_participant_only(api, personas):
    message = _about_patient(personas)
    resource = fhir_json(api.get(f"Communication/{message.uuid}", personas.treating_doctor))
    url = resource["payload"][1]["contentAttachment"]["url"]
    path = url.split("/fhir/r4/", 1)[1]

    served = api.get(path, personas.treating_doctor, HTTP_ACCEPT="application/pdf")
    wrapped = api.get(path, personas.treating_doctor, HTTP_ACCEPT=FHIR_JSON)
    refused = api.get(path, personas.cardiologist, HTTP_ACCEPT="application/pdf")

    assert served.status_code == 200
    assert served.content == PDF
    assert fhir_json(wrapped)["securityContext"] == {"reference": f"Communication/{message.uuid}"}
    assert refused.status_code == 404
