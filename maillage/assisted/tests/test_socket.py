"""The assisted frames on the room's real socket: ask, reading to the doctor within a second, mark.

Real sockets on the ASGI application (channels' communicator), real sessions,
the channel layer of the real-time tests.
"""

from __future__ import annotations

import json
import time

import pytest

from maillage.assisted.tests.conftest import CUFF_BYTES
from maillage.measurements.models import Observation
from maillage.realtime.tests.conftest import (  # the stub of channels.testing first  # noqa: F401
    channel_layer,
    run,
    signed_in_session,
)
from maillage.teleconsult.tests.test_consumer import next_frame, room_socket

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_doctor_asks_the_nurse_sends_the_doctor_sees_and_marks(personas, act) -> None:
    doctor_session = signed_in_session(personas.treating_doctor.user)
    nurse_session = signed_in_session(personas.nurse.user)
    patient_session = signed_in_session(personas.patient_user, second_factor=False)
    consultation = act.consultation
    seen: dict[str, float] = {}

    async def scenario() -> None:
        doctor = room_socket(consultation, doctor_session)
        nurse = room_socket(consultation, nurse_session)
        patient = room_socket(consultation, patient_session)
        for socket in (doctor, nurse, patient):
            assert (await socket.connect())[0]
            await socket.send_json_to({"type": "hello"})
            await next_frame(socket, "welcome")
        await doctor.send_json_to({"type": "assisted.ask", "data": {"kind": "blood_pressure"}})
        asked = await next_frame(nurse, "assisted.asked")
        assert asked["data"]["label"] == "Prenez la tension"
        assert (await next_frame(doctor, "assisted.asked"))["data"]["kind"] == "blood_pressure"
        # The patient herself posts a reading: refused, nothing stored.
        reading = {
            "source": "device",
            "characteristic": "0x2a35",
            "bytes": CUFF_BYTES,
            "device": {"manufacturer": "Omron", "model": "M7", "systemId": "005F310504030201"},
        }
        await patient.send_json_to({"type": "assisted.reading", "data": reading})
        refused = await next_frame(patient, "assisted.refused")
        assert "Vous ne pouvez pas envoyer de mesures" in refused["data"]["message"]
        start = time.monotonic()
        await nurse.send_json_to({"type": "assisted.reading", "data": reading})
        live = await next_frame(doctor, "assisted.reading")
        seen["delivery"] = time.monotonic() - start
        assert [r["text"] for r in live["data"]["readings"]] == ["120/80 mmHg", "72 /min"]
        assert (await next_frame(nurse, "assisted.reading"))["data"]["mine"] is True
        # The patient's socket, in the same room, is shown no reading live (policy per receiver).
        # What reached her in half a second (pings come every 0.1 s: a bounded look).
        kinds = []
        until = time.monotonic() + 0.5
        while time.monotonic() < until:
            if await patient.receive_nothing(timeout=0.05):
                continue
            out = await patient.receive_output()
            if out["type"] == "websocket.send":
                kinds.append(json.loads(out["text"])["type"])
        assert not [k for k in kinds if k.startswith("assisted.")], kinds
        first = live["data"]["readings"][0]["observation"]
        await doctor.send_json_to(
            {"type": "assisted.mark", "data": {"observation": first, "significant": True}}
        )
        marked = await next_frame(doctor, "assisted.marked")
        assert marked["data"] == {"observation": first, "significant": True}
        # A bad frame of ours closes the socket like any bad frame.
        await nurse.send_json_to({"type": "assisted.reading", "data": {"source": "telepathy"}})
        assert (await next_frame(nurse, "error"))["data"]["code"] == "bad_source"
        for socket in (doctor, nurse, patient):
            await socket.disconnect()

    run(scenario)
    assert seen["delivery"] < 1.0, seen
    pressure = Observation.objects.get(code="85354-9")
    assert pressure.significant and pressure.performer == personas.nurse.user
    assert pressure.encounter == consultation and pressure.device is not None
    assert Observation.objects.count() == 2  # the patient's attempt stored nothing
