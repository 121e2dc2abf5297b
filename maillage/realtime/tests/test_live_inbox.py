"""A message sent reaches its recipients' sockets; the detail only where the policy says so."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.messaging import actions
from maillage.messaging.models import Thread
from maillage.messaging.tests.conftest import fr, private_files  # noqa: F401 (autouse fixture)
from maillage.realtime.models import UserEvent
from maillage.realtime.tests.conftest import hello, receive_event, run, signed_in_session, socket
from maillage.records.models import Consent, ConsentKind

pytestmark = pytest.mark.django_db(transaction=True)


def _send(personas, *, patient: bool = True):
    return actions.send_message(
        personas.nurse.user,
        actions.Draft(
            subject="Pansement de Mme Girard",
            body="Plaie du talon à revoir.",
            professionals=[personas.treating_doctor],
            patient_uuid=personas.patient.uuid if patient else None,
        ),
    )


def _live_frame(personas, send, *, last_seq: int = 0) -> tuple[dict, bool]:
    """The doctor's socket is open when the nurse sends: her frame, and whether he got one."""
    doctor_session = signed_in_session(personas.treating_doctor.user)
    nurse_session = signed_in_session(personas.nurse.user)

    async def scenario() -> tuple[dict, bool]:
        doctor = socket(session=doctor_session)
        nurse = socket(session=nurse_session)
        assert (await doctor.connect(timeout=10))[0] and (await nurse.connect(timeout=10))[0]
        await hello(doctor, last_seq=last_seq)
        await hello(nurse, last_seq=last_seq)
        await database_sync_to_async(send)()
        frame = await receive_event(doctor)
        nurse_got_nothing = await nurse.receive_nothing(timeout=0.5)
        await doctor.disconnect(timeout=10)
        await nurse.disconnect(timeout=10)
        return frame, nurse_got_nothing

    return run(scenario)


def test_the_recipient_sees_the_new_conversation_live(personas, settings) -> None:
    settings.MAILLAGE_REALTIME_HEARTBEAT_SECONDS = 30
    frame, nurse_got_nothing = _live_frame(personas, lambda: _send(personas))
    thread = Thread.objects.get()
    assert frame["type"] == "message.new" and frame["seq"] == 1
    assert frame["data"]["thread"] == str(thread.uuid) and frame["data"]["count"] == 1
    row = frame["data"]["row"]
    assert row["subject"] == "Pansement de Mme Girard"
    assert row["unread"] is True and row["about_patient"] is True
    assert row["tags"] == [
        {"text": fr("unread"), "warn": True},
        {"text": fr("about a patient"), "warn": False},
    ]
    assert row["tags"][0]["text"] != "unread"  # in French, as on the page
    assert row["url"] == f"/messagerie/{thread.uuid}/"
    assert "Roux" in row["others"]
    # The sender is told nothing; what is stored holds no health data.
    assert nurse_got_nothing
    stored = UserEvent.objects.get()
    assert stored.user == personas.treating_doctor.user
    assert stored.data == {"thread": str(thread.uuid), "count": 1}
    # Listing it live is not a read: no entry, as for the inbox page.
    assert not AuditEntry.objects.filter(action=Action.MESSAGE_LIVE).exists()


def test_a_receiver_the_patient_opposed_since_gets_no_detail(personas, settings) -> None:
    """The patient opposes her doctor between the send and the push: the frame says only
    that something arrived, and the refusal is on her trail."""
    settings.MAILLAGE_REALTIME_HEARTBEAT_SECONDS = 30

    def send_then_oppose() -> None:
        _send(personas)
        Consent.objects.create(
            patient=personas.patient,
            kind=ConsentKind.OPPOSE_PROFESSIONAL,
            professional=personas.treating_doctor,
            recorded_by=personas.patient_user,
        )

    # The frame is built when it is sent; oppose before the doctor's socket asks.
    doctor_session = signed_in_session(personas.treating_doctor.user)
    send_then_oppose()

    async def scenario() -> dict:
        doctor = socket(session=doctor_session)
        assert (await doctor.connect(timeout=10))[0]
        await hello(doctor, last_seq=0)
        frame = await receive_event(doctor)
        await doctor.disconnect(timeout=10)
        return frame

    frame = run(scenario)
    thread = Thread.objects.get()
    assert frame["type"] == "message.new"
    assert frame["data"] == {"thread": str(thread.uuid), "count": 1}
    entry = AuditEntry.objects.filter(action=Action.MESSAGE_LIVE).get()
    assert entry.outcome == Outcome.DENIED
    assert entry.patient == personas.patient
    assert entry.actor == personas.treating_doctor.user
    assert entry.detail["rule"] == "opposed_professional"


def test_a_conversation_about_nobody_is_shown_live(personas, settings) -> None:
    settings.MAILLAGE_REALTIME_HEARTBEAT_SECONDS = 30
    frame, _ = _live_frame(personas, lambda: _send(personas, patient=False))
    assert frame["data"]["row"]["about_patient"] is False


def test_a_reply_reaches_the_other_participant(personas, settings) -> None:
    settings.MAILLAGE_REALTIME_HEARTBEAT_SECONDS = 30
    message = _send(personas)
    frame, _ = _live_frame(
        personas,
        lambda: actions.reply(personas.nurse.user, message.thread, "Et la pommade ?"),
        last_seq=1,  # the first message was the doctor's event 1
    )
    assert frame["seq"] == 2
    assert frame["data"]["thread"] == str(message.thread.uuid)
