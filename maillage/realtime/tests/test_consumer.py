"""The socket's protocol: envelopes, resume by sequence, no duplicate, heartbeat."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db.models import F
from django.utils import timezone

from maillage.realtime import events
from maillage.realtime.models import EventStream, UserEvent
from maillage.realtime.tests.conftest import hello, receive_event, run, signed_in_session, socket

pytestmark = pytest.mark.django_db(transaction=True)


def _publish(user_id: int) -> int:
    return events.publish(user_id, events.MESSAGE_NEW, {"thread": str(uuid.uuid4()), "count": 1})


async def _connected(user):
    session = await database_sync_to_async(signed_in_session)(user)
    communicator = socket(session=session)
    connected, _code = await communicator.connect(timeout=10)
    assert connected
    return communicator


async def _close_code(communicator) -> int:
    while True:
        output = await communicator.receive_output(timeout=10)
        if output["type"] == "websocket.close":
            await communicator.disconnect(timeout=10)
            return int(output.get("code", 1000))


def test_a_client_that_reconnects_gets_every_missed_event_in_order(personas) -> None:
    user = personas.treating_doctor.user
    for _ in range(4):
        _publish(user.pk)

    async def scenario() -> tuple[dict, list[dict]]:
        communicator = await _connected(user)
        welcome = await hello(communicator, last_seq=1)
        frames = [await receive_event(communicator) for _ in range(3)]
        await communicator.disconnect(timeout=10)
        return welcome, frames

    welcome, frames = run(scenario)
    assert welcome["data"]["last_seq"] == 4 and welcome["data"]["missed"] is False
    assert [f["seq"] for f in frames] == [2, 3, 4]
    assert all(f["type"] == "message.new" and set(f["data"]) == {"thread", "count"} for f in frames)
    stored = list(
        UserEvent.objects.filter(user=user).order_by("seq").values_list("data", flat=True)
    )
    assert [f["data"] for f in frames] == stored[1:]


def test_live_events_follow_the_replay_and_none_is_sent_twice(personas, settings) -> None:
    settings.MAILLAGE_REALTIME_HEARTBEAT_SECONDS = 30  # no ping in the way of receive_nothing
    user = personas.treating_doctor.user
    _publish(user.pk)

    async def scenario() -> list[int]:
        communicator = await _connected(user)
        await hello(communicator, last_seq=0)
        seqs = [(await receive_event(communicator))["seq"]]
        await database_sync_to_async(_publish)(user.pk)
        seqs.append((await receive_event(communicator))["seq"])
        # The layer hands the same event twice (a retry, a second worker): dropped.
        event = await database_sync_to_async(UserEvent.objects.get)(user=user, seq=2)
        layer = get_channel_layer()
        assert layer is not None
        for seq in (1, 2):
            await layer.group_send(
                events.group_name(user.pk),
                {"type": "realtime.event", "seq": seq, "kind": event.kind, "data": event.data},
            )
        assert await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect(timeout=10)
        return seqs

    assert run(scenario) == [1, 2]


def test_an_event_that_overtook_another_comes_after_it(personas, settings) -> None:
    """Seq 2 and 3 are stored, only 3 reaches the layer first: the client gets 2 then 3."""
    settings.MAILLAGE_REALTIME_HEARTBEAT_SECONDS = 30
    user = personas.treating_doctor.user

    _publish(user.pk)

    def store_two_without_sending() -> None:
        for seq in (2, 3):
            EventStream.objects.filter(user=user).update(last_seq=F("last_seq") + 1)
            UserEvent.objects.create(
                user=user,
                seq=seq,
                kind=events.MESSAGE_NEW,
                data={"n": seq},
                created_at=timezone.now(),
            )

    async def scenario() -> list[int]:
        communicator = await _connected(user)
        await hello(communicator, last_seq=0)
        first = await receive_event(communicator)
        await database_sync_to_async(store_two_without_sending)()
        layer = get_channel_layer()
        assert layer is not None
        await layer.group_send(
            events.group_name(user.pk),
            {"type": "realtime.event", "seq": 3, "kind": events.MESSAGE_NEW, "data": {"n": 3}},
        )
        later = [await receive_event(communicator) for _ in range(2)]
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect(timeout=10)
        return [first["seq"], *(f["seq"] for f in later)]

    assert run(scenario) == [1, 2, 3]


def test_events_of_others_never_reach_the_socket(personas, settings) -> None:
    settings.MAILLAGE_REALTIME_HEARTBEAT_SECONDS = 30
    doctor, nurse = personas.treating_doctor.user, personas.nurse.user

    async def scenario() -> bool:
        communicator = await _connected(nurse)
        await hello(communicator)
        await database_sync_to_async(_publish)(doctor.pk)
        nothing = await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect(timeout=10)
        return nothing

    assert run(scenario)


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        json.dumps([1, 2]),
        json.dumps({"type": "subscribe", "data": {"user": 1}}),
        json.dumps({"type": "hello", "data": {"last_seq": True}}),
        json.dumps({"type": "hello", "data": {"last_seq": -1}}),
        json.dumps({"type": "hello", "data": {"last_seq": 2**70}}),
        json.dumps({"type": "hello", "data": {"last_seq": "0"}}),
        json.dumps({"type": "ping", "pad": "x" * 5000}),
    ],
)
def test_a_frame_that_is_not_ours_gets_an_error_and_a_close(personas, frame) -> None:
    user = personas.treating_doctor.user

    async def scenario() -> tuple[dict, int]:
        communicator = await _connected(user)
        await communicator.send_to(text_data=frame)
        error = await receive_event(communicator)
        return error, await _close_code(communicator)

    error, code = run(scenario)
    assert error["type"] == "error" and error["seq"] == 0 and error["data"]["code"]
    assert code == 4400


def test_a_second_hello_is_refused(personas) -> None:
    async def scenario() -> int:
        communicator = await _connected(personas.treating_doctor.user)
        await hello(communicator)
        await communicator.send_json_to({"type": "hello", "data": {"last_seq": 0}})
        assert (await receive_event(communicator))["data"]["code"] == "hello_twice"
        return await _close_code(communicator)

    assert run(scenario) == 4400


def test_ping_gets_pong(personas) -> None:
    async def scenario() -> dict:
        communicator = await _connected(personas.treating_doctor.user)
        await hello(communicator)
        await communicator.send_json_to({"type": "ping"})
        frame = await receive_event(communicator)
        await communicator.disconnect(timeout=10)
        return frame

    assert run(scenario) == {"type": "pong", "seq": 0, "data": {}}


def test_the_server_closes_a_silent_socket(personas, settings) -> None:
    settings.MAILLAGE_REALTIME_HEARTBEAT_SECONDS = 0.05
    settings.MAILLAGE_REALTIME_SILENCE_SECONDS = 0.4

    async def scenario() -> tuple[int, int]:
        communicator = await _connected(personas.treating_doctor.user)
        await hello(communicator)
        pings = 0
        while True:
            output = await communicator.receive_output(timeout=10)
            if output["type"] == "websocket.close":
                await communicator.disconnect(timeout=10)
                return pings, int(output["code"])
            pings += json.loads(output["text"])["type"] == "ping"

    pings, code = run(scenario)
    assert code == 4408
    assert pings >= 1


def test_a_client_that_answers_the_pings_stays(personas, settings) -> None:
    settings.MAILLAGE_REALTIME_HEARTBEAT_SECONDS = 0.05
    settings.MAILLAGE_REALTIME_SILENCE_SECONDS = 0.4

    async def scenario() -> dict:
        communicator = await _connected(personas.treating_doctor.user)
        await hello(communicator)
        answered = 0
        while answered < 20:  # about a second: well past the silence limit
            frame = await communicator.receive_json_from(timeout=3)
            assert frame["type"] == "ping"
            await communicator.send_json_to({"type": "pong"})
            answered += 1
        await communicator.send_json_to({"type": "ping"})
        frame = await receive_event(communicator)
        await communicator.disconnect(timeout=10)
        return frame

    assert run(scenario)["type"] == "pong"


def test_a_client_ahead_of_the_server_restarts_from_the_server(personas, settings) -> None:
    settings.MAILLAGE_REALTIME_HEARTBEAT_SECONDS = 30
    user = personas.treating_doctor.user
    _publish(user.pk)

    async def scenario() -> tuple[dict, dict]:
        communicator = await _connected(user)
        welcome = await hello(communicator, last_seq=999)
        await database_sync_to_async(_publish)(user.pk)
        frame = await receive_event(communicator)
        await communicator.disconnect(timeout=10)
        return welcome, frame

    welcome, frame = run(scenario)
    assert welcome["data"] == {"last_seq": 1, "missed": True, "heartbeat": 30.0}
    assert frame["seq"] == 2


def test_pruned_events_are_reported_missed(personas, settings) -> None:
    user = personas.treating_doctor.user
    for _ in range(3):
        _publish(user.pk)
    UserEvent.objects.filter(user=user, seq__lte=2).update(
        created_at=timezone.now() - dt.timedelta(hours=settings.MAILLAGE_REALTIME_KEEP_HOURS + 1)
    )
    assert events.prune() == 2

    async def scenario() -> tuple[dict, dict]:
        communicator = await _connected(user)
        welcome = await hello(communicator, last_seq=0)
        frame = await receive_event(communicator)
        await communicator.disconnect(timeout=10)
        return welcome, frame

    welcome, frame = run(scenario)
    assert welcome["data"]["missed"] is True
    assert frame["seq"] == 3
