"""Communication search: the caller's own threads only, each read through the gate."""

from __future__ import annotations

import pytest
from django.utils import timezone

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.mapping.communication import MESSAGE_ID_SYSTEM
from maillage.fhir.tests.conftest import fhir_json, issues
from maillage.messaging import actions
from maillage.messaging.models import Message
from maillage.policy.messages import get_thread
from maillage.testing import factories as f

pytestmark = pytest.mark.usefixtures("private_files")


def _send(sender, to, subject: str, *, patient=None) -> Message:
    return actions.send_message(
        sender.user,
        actions.Draft(
            subject=subject,
            body=f"{subject}: voir le dossier.",
            professionals=list(to),
            patient_uuid=patient.uuid if patient is not None else None,
        ),
    )


def _ids(response) -> list[str]:
    return [e["resource"]["id"] for e in fhir_json(response).get("entry", [])]


def test_it_finds_only_messages_of_the_callers_threads_newest_first(api, personas):
    mine = _send(personas.nurse, [personas.treating_doctor], "Pansement", patient=personas.patient)
    answer = actions.reply(
        personas.treating_doctor.user,
        get_thread(personas.treating_doctor.user, mine.thread.uuid, Action.MESSAGE_SEND),
        "Vu, merci.",
    )
    others = _send(personas.nurse, [personas.cardiologist], "Avis cardio")

    response = api.get("Communication", personas.treating_doctor)

    assert response.status_code == 200
    bundle = fhir_json(response)
    assert bundle["total"] == 2
    assert _ids(response) == [str(answer.uuid), str(mine.uuid)]
    assert str(others.uuid) not in _ids(response)


def test_each_thread_about_a_patient_on_the_page_is_audited_once(api, personas):
    first = _send(personas.nurse, [personas.treating_doctor], "Pansement", patient=personas.patient)
    actions.reply(
        personas.treating_doctor.user,
        get_thread(personas.treating_doctor.user, first.thread.uuid, Action.MESSAGE_SEND),
        "Vu, merci.",
    )
    _send(personas.nurse, [personas.treating_doctor], "Planning des tournées")
    before = AuditEntry.objects.filter(action=Action.MESSAGE_READ).count()

    api.get("Communication", personas.nurse)

    reads = AuditEntry.objects.filter(action=Action.MESSAGE_READ).order_by("seq")[before:]
    assert [(e.patient, e.outcome, e.detail["fhir"]) for e in reads] == [
        (personas.patient, Outcome.GRANTED, "Communication")
    ]


def test_it_searches_by_patient(api, personas):
    about = _send(personas.nurse, [personas.treating_doctor], "Pansement", patient=personas.patient)
    _send(personas.nurse, [personas.treating_doctor], "Planning")
    other = f.patient("MARTIN", "Jeanne")

    by_patient = api.get(f"Communication?patient=Patient/{personas.patient.uuid}", personas.nurse)
    by_other = api.get(f"Communication?patient={other.uuid}", personas.nurse)

    assert _ids(by_patient) == [str(about.uuid)]
    assert _ids(by_other) == []


def test_it_searches_by_sender_and_recipient(api, personas):
    to_doctor = _send(personas.nurse, [personas.treating_doctor], "Pansement")
    to_cardiologist = _send(personas.nurse, [personas.cardiologist], "ECG")
    from_doctor = _send(personas.treating_doctor, [personas.nurse], "Tournée")

    sent_by_nurse = api.get(f"Communication?sender={personas.nurse.uuid}", personas.nurse)
    to_the_doctor = api.get(
        f"Communication?recipient=Practitioner/{personas.treating_doctor.uuid}", personas.nurse
    )

    assert set(_ids(sent_by_nurse)) == {str(to_doctor.uuid), str(to_cardiologist.uuid)}
    assert _ids(to_the_doctor) == [str(to_doctor.uuid)]
    assert str(from_doctor.uuid) not in _ids(sent_by_nurse)


def test_it_searches_by_day_sent(api, personas):
    message = _send(personas.nurse, [personas.treating_doctor], "Pansement")
    day = timezone.localdate(message.sent_at)  # the day in France, as the search reads it

    assert _ids(api.get(f"Communication?sent={day.isoformat()}", personas.nurse)) == [
        str(message.uuid)
    ]
    assert _ids(api.get(f"Communication?sent=lt{day.isoformat()}", personas.nurse)) == []


def test_it_searches_by_message_id_with_or_without_brackets(api, personas):
    message = _send(personas.nurse, [personas.treating_doctor], "Pansement")
    _send(personas.nurse, [personas.treating_doctor], "Autre")
    Message.objects.filter(pk=message.pk).update(message_id="<abc.123@maillage.example>")

    with_system = api.get(
        f"Communication?identifier={MESSAGE_ID_SYSTEM}|<abc.123@maillage.example>",
        personas.nurse,
    )
    bare = api.get("Communication?identifier=abc.123@maillage.example", personas.nurse)

    assert _ids(with_system) == [str(message.uuid)]
    assert _ids(bare) == [str(message.uuid)]


def test_it_pages_with_count_and_a_next_link(api, personas):
    for number in range(3):
        _send(personas.nurse, [personas.treating_doctor], f"Message {number}")

    bundle = fhir_json(api.get("Communication?_count=2", personas.treating_doctor))

    assert bundle["total"] == 3
    assert len(bundle["entry"]) == 2
    assert any(link["relation"] == "next" for link in bundle["link"])


@pytest.mark.parametrize(
    "query",
    [
        "identifier=http://autre|x",
        "sent=hier",
        "patient=Practitioner/00000000-0000-0000-0000-000000000000",
        "sender=Patient/00000000-0000-0000-0000-000000000000",
        "theme=cardio",
    ],
    ids=["foreign-system", "bad-date", "patient-wrong-type", "sender-wrong-type", "unknown"],
)
def test_bad_parameters_get_an_operation_outcome(api, personas, query):
    response = api.get(f"Communication?{query}", personas.nurse)

    assert response.status_code == 400
    assert issues(response)[0]["severity"] == "error"


@pytest.mark.parametrize("who", ["patient_user", "analyst"])
def test_roles_without_messaging_get_403_audited(api, personas, who):
    user = getattr(personas, who)

    response = api.get("Communication", user)

    assert response.status_code == 403
    entry = AuditEntry.objects.filter(action=Action.MESSAGE_READ).latest("seq")
    assert (entry.actor, entry.outcome) == (user, Outcome.DENIED)
