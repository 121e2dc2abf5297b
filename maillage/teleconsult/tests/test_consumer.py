"""The room's socket: the patient waits, the doctor admits, signals go between those inside only.

Real sockets on the ASGI application (channels' communicator), real
sessions, the channel layer of the real-time tests (Redis when REDIS_URL).
"""

from __future__ import annotations

import pytest
from django.conf import settings

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.policy.teleconsult import Visitor
from maillage.realtime.tests.conftest import (  # the stub of channels.testing first  # noqa: F401
    ORIGIN,
    WebsocketCommunicator,
    channel_layer,
    run,
    signed_in_session,
)
from maillage.teleconsult import actions
from maillage.teleconsult.models import Incident, IncidentKind, Participant, Status
from maillage.teleconsult.tests.conftest import invite

pytestmark = pytest.mark.django_db(transaction=True)


def room_socket(consultation, session: str | None) -> WebsocketCommunicator:
    from maillage.asgi import application

    headers = [(b"origin", ORIGIN.encode())]
    if session:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode()))
    return WebsocketCommunicator(
        application, f"/ws/teleconsult/{consultation.uuid}/", headers=headers
    )


async def next_frame(
    socket: WebsocketCommunicator, kind: str | None = None, timeout: float = 10
) -> dict:
    while True:
        frame = await socket.receive_json_from(timeout=timeout)
        if frame["type"] in {"ping", "pong"}:
            continue
        if kind is None or frame["type"] == kind:
            return frame


def guest_session(token: str) -> str:
    from django.test import Client

    client = Client()
    response = client.post(f"/teleconsultation/invitation/{token}/", {})
    assert response.status_code == 302, response.status_code
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_it_admits_the_patient_and_relays_their_signals(personas, consultation) -> None:
    doctor_session = signed_in_session(personas.treating_doctor.user)
    patient_session = signed_in_session(personas.patient_user, second_factor=False)
    patient_place = consultation.participants.get(role="patient")
    doctor_place = consultation.participants.get(role="doctor")
    actions.give_consent(
        *actions.seat_for_change(Visitor(user=personas.patient_user), consultation.uuid)
    )

    async def scenario() -> None:
        doctor = room_socket(consultation, doctor_session)
        patient = room_socket(consultation, patient_session)
        assert (await doctor.connect())[0] and (await patient.connect())[0]
        await doctor.send_json_to({"type": "hello"})
        welcome = await next_frame(doctor, "welcome")
        assert welcome["data"]["where"] == "room" and welcome["data"]["doctor"]
        await patient.send_json_to({"type": "hello"})
        assert (await next_frame(patient, "welcome"))["data"]["where"] == "waiting"
        lobby = await next_frame(doctor, "lobby")
        while not lobby["data"]["waiting"]:
            lobby = await next_frame(doctor, "lobby")
        assert lobby["data"]["waiting"][0]["participant"] == str(patient_place.uuid)
        # Waiting: nothing is relayed to her yet.
        await doctor.send_json_to(
            {
                "type": "signal",
                "data": {"to": str(patient_place.uuid), "pc": "a", "candidate": None},
            }
        )
        assert (await next_frame(doctor, "error"))["data"]["code"] == "not_in_room"
        await doctor.send_json_to(
            {"type": "admit", "data": {"participant": str(patient_place.uuid)}}
        )
        inside = await next_frame(patient, "welcome")
        assert inside["data"]["where"] == "room"
        assert [p["participant"] for p in inside["data"]["peers"]] == [str(doctor_place.uuid)]
        joined = await next_frame(doctor, "peer.joined")
        assert joined["data"]["participant"] == str(patient_place.uuid)
        offer = {"type": "offer", "sdp": "v=0\r\n"}
        await patient.send_json_to(
            {
                "type": "signal",
                "data": {"to": str(doctor_place.uuid), "pc": "p1", "description": offer},
            }
        )
        relayed = await next_frame(doctor, "signal")
        assert relayed["data"] == {
            "from": str(patient_place.uuid),
            "pc": "p1",
            "description": offer,
        }
        await patient.send_json_to({"type": "chat", "data": {"text": "Bonjour docteur"}})
        assert (await next_frame(doctor, "chat"))["data"]["text"] == "Bonjour docteur"
        # The line drops: the patient comes back without being admitted again.
        await patient.disconnect()
        assert (await next_frame(doctor, "peer.left"))["data"]["dropped"] is True
        again = room_socket(consultation, patient_session)
        assert (await again.connect())[0]
        await again.send_json_to({"type": "hello"})
        assert (await next_frame(again, "welcome"))["data"]["where"] == "room"
        await doctor.send_json_to({"type": "end"})
        assert (await next_frame(again, "ended"))["type"] == "ended"
        await doctor.disconnect()
        await again.disconnect()

    run(scenario)
    consultation.refresh_from_db()
    assert consultation.status == Status.FINISHED and consultation.ended_at
    kinds = list(Incident.objects.filter(consultation=consultation).values_list("kind", flat=True))
    assert kinds == [IncidentKind.DROP, IncidentKind.RECONNECTION]
    assert Participant.objects.get(pk=patient_place.pk).admitted_at is not None


def test_a_stranger_and_a_nobody_are_refused(personas, consultation) -> None:
    stranger = signed_in_session(personas.cardiologist.user)

    async def scenario() -> list[bool]:
        results = []
        for session in (stranger, None):
            socket = room_socket(consultation, session)
            connected, _code = await socket.connect()
            results.append(connected)
            await socket.disconnect()
        return results

    assert run(scenario) == [False, False]
    refused = AuditEntry.objects.get(
        action=Action.TELECONSULT_READ, actor=personas.cardiologist.user
    )
    assert refused.outcome == Outcome.DENIED and refused.patient_id == personas.patient.pk


def test_a_guest_cannot_admit_nor_signal_into_another_act(personas, consultation) -> None:
    new = invite(personas, consultation)
    session = guest_session(new.token)
    other = actions.open_consultation(
        personas.treating_doctor.user, personas.patient, personas.treating_doctor
    )
    other_patient = other.participants.get(role="patient")
    me = Participant.objects.get(pk=new.invitation.participant_id)

    async def scenario() -> list[dict]:
        guest = room_socket(consultation, session)
        assert (await guest.connect())[0]
        await guest.send_json_to({"type": "hello"})
        assert (await next_frame(guest, "welcome"))["data"]["me"]["participant"] == str(me.uuid)
        await guest.send_json_to({"type": "admit", "data": {"participant": str(me.uuid)}})
        refused = await next_frame(guest, "error")
        await guest.send_json_to(
            {
                "type": "signal",
                "data": {"to": str(other_patient.uuid), "pc": "x", "candidate": None},
            }
        )
        stray = await next_frame(guest, "error")
        # Her seat is for this act only: the other act's socket refuses her.
        elsewhere = room_socket(other, session)
        connected, _ = await elsewhere.connect()
        await guest.disconnect()
        return [refused, stray, {"connected": connected}]

    refused, stray, elsewhere = run(scenario)
    assert refused["data"]["code"] == "refused"
    assert stray["data"]["code"] == "not_in_room"
    assert elsewhere == {"connected": False}
    assert Participant.objects.get(pk=me.pk).admitted_at is None
    denied = AuditEntry.objects.filter(action=Action.TELECONSULT_SIGNAL, outcome=Outcome.DENIED)
    assert denied.count() == 1 and denied[0].actor_id is None


def test_a_forged_frame_closes_the_socket(personas, consultation) -> None:
    session = signed_in_session(personas.treating_doctor.user)

    async def scenario() -> dict:
        socket = room_socket(consultation, session)
        assert (await socket.connect())[0]
        await socket.send_to(text_data='{"type": "signal", "data": {"to": "x"}}')
        frame = await next_frame(socket, "error")
        assert (await socket.receive_output(timeout=5))["type"] == "websocket.close"
        return frame

    assert run(scenario)["data"]["code"] == "bad_target"


def test_the_end_is_said_once_though_it_reaches_the_socket_twice(personas, consultation) -> None:
    """The doctor's end and the heartbeat may both find the act ended: one frame, one close."""
    from channels.layers import get_channel_layer

    from maillage.teleconsult.consumers import CLOSE_ENDED, act_group

    session = signed_in_session(personas.treating_doctor.user)

    async def scenario() -> None:
        doctor = room_socket(consultation, session)
        assert (await doctor.connect())[0]
        await doctor.send_json_to({"type": "hello"})
        await next_frame(doctor, "welcome")
        layer = get_channel_layer()
        assert layer is not None
        ended = {"type": "room.frame", "kind": "ended", "data": {}}
        await layer.group_send(act_group(consultation.uuid), ended)
        await layer.group_send(act_group(consultation.uuid), ended)
        assert (await next_frame(doctor, "ended"))["type"] == "ended"
        closed = await doctor.receive_output(timeout=10)
        assert closed == {"type": "websocket.close", "code": CLOSE_ENDED}
        # Nothing after the close: neither the second "ended" nor a ping.
        assert await doctor.receive_nothing(timeout=1.5)
        await doctor.disconnect()

    run(scenario)
