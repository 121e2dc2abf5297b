"""The assisted act's frames on the room's socket (``teleconsult.frames.extend``).

Client to server: ``assisted.ask`` (the doctor: ``kind``), ``assisted.reading``
(the assistant: ``source`` "device" with ``characteristic``, the device's
``bytes`` in hex and its ``device`` description, or "manual" with ``kind``,
``value`` or ``systolic``/``diastolic``, and ``unit``), ``assisted.mark``
(the doctor: ``observation``, ``significant``).

Server to client: ``assisted.asked`` (to the act's assistants in the room,
and back to the doctor), ``assisted.reading`` (to the act's doctor and back
to the sender: the readings as stored), ``assisted.refused`` (to the sender,
a French message), ``assisted.marked`` (to the doctor).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _

from maillage.assisted import actions, room
from maillage.assisted.asks import BY_KIND
from maillage.realtime.envelopes import Envelope
from maillage.teleconsult import frames
from maillage.teleconsult.consumers import doctor_group, participant_group
from maillage.teleconsult.frames import BadFrame, Extension

MAX_BYTES_HEX = 1100  # 512 bytes of an attribute value, in hex, with some spaces


def _text(data: dict[str, Any], name: str, limit: int) -> str:
    value = data.get(name, "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > limit:
        raise BadFrame(f"bad_{name}")
    return value


def parse_ask(data: dict[str, Any]) -> dict[str, Any]:
    kind = data.get("kind")
    if kind not in BY_KIND:
        raise BadFrame("bad_kind")
    return {"kind": kind}


def parse_reading(data: dict[str, Any]) -> dict[str, Any]:
    source = data.get("source")
    out: dict[str, Any] = {"source": source, "request": _text(data, "request", 40)}
    if source == "device":
        out["characteristic"] = _text(data, "characteristic", 40)
        out["bytes"] = _text(data, "bytes", MAX_BYTES_HEX)
        device = data.get("device")
        device = device if isinstance(device, dict) else {}
        out["device"] = {k: _text(device, k, 100) for k in ("manufacturer", "model", "systemId")}
        return out
    if source == "manual":
        for name in ("kind", "value", "systolic", "diastolic", "unit"):
            out[name] = _text(data, name, 20)
        return out
    raise BadFrame("bad_source")


def parse_mark(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "observation": _text(data, "observation", 40),
        "significant": bool(data.get("significant", True)),
    }


async def _refuse(consumer: Any, message: str, data: dict[str, Any]) -> None:
    refused = {"message": message, "request": data.get("request", "")}
    await consumer._send(Envelope("assisted.refused", data=refused))


async def handle_ask(consumer: Any, data: dict[str, Any]) -> None:
    asked, receivers = await consumer._call(room.ask, consumer.seat, data["kind"])
    for receiver in receivers:
        await consumer._to_group(participant_group(receiver), "assisted.asked", asked)
    await consumer._send(Envelope("assisted.asked", data=asked))


async def handle_reading(consumer: Any, data: dict[str, Any]) -> None:
    try:
        sent = await consumer._call(room.send_reading, consumer.seat, data)
    except actions.ReadingRefused as error:
        await _refuse(consumer, error.message, data)
        return
    except Http404:
        # Refused by the policy (audited there): not a participant who takes readings.
        await _refuse(consumer, _("You may not send readings in this act."), data)
        return
    await consumer._to_group(
        doctor_group(consumer.seat.consultation.uuid), "assisted.reading", sent
    )
    await consumer._send(Envelope("assisted.reading", data={**sent, "mine": True}))


async def handle_mark(consumer: Any, data: dict[str, Any]) -> None:
    try:
        marked = await consumer._call(
            room.mark, consumer.seat, data["observation"], data["significant"]
        )
    except Http404:
        await _refuse(consumer, _("This reading cannot be marked."), data)
        return
    await consumer._to_group(
        doctor_group(consumer.seat.consultation.uuid), "assisted.marked", marked
    )


def register() -> None:
    frames.extend("assisted.ask", Extension(parse_ask, handle_ask))
    frames.extend("assisted.reading", Extension(parse_reading, handle_reading))
    frames.extend("assisted.mark", Extension(parse_mark, handle_mark))
