"""The assisted act's frames on the room's socket (``teleconsult.frames.extend``).

Client to server: ``assisted.ask`` (the doctor: ``kind``), ``assisted.reading``
(the assistant: ``source`` "device" with ``characteristic``, the device's
``bytes`` in hex and its ``device`` description, or "manual" with ``kind``,
``value`` or ``systolic``/``diastolic``, and ``unit``), ``assisted.mark``
(the doctor: ``observation`` or ``media``, ``significant``). A still or a
file comes by the page's POST (``views.send_media``), not the socket.

Server to client: ``assisted.asked`` (to the act's assistants in the room,
and back to the doctor), ``assisted.reading`` (the readings as stored; the
sender's copy says ``mine``), ``assisted.media`` (a still or file stored),
``assisted.marked``, ``assisted.refused`` (to the sender, a French
message). Readings, media and marks go to each receiver the policy grants
(``room.pushes``), decided one by one when they are sent.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _

from maillage.assisted import actions, room
from maillage.assisted.asks import BY_KIND
from maillage.realtime.envelopes import Envelope
from maillage.teleconsult import frames
from maillage.teleconsult.consumers import participant_group
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
    out = {
        "observation": _text(data, "observation", 40),
        "media": _text(data, "media", 40),
        "significant": bool(data.get("significant", True)),
    }
    if bool(out["observation"]) == bool(out["media"]):
        raise BadFrame("bad_mark")
    return out


async def _refuse(consumer: Any, message: str, data: dict[str, Any]) -> None:
    refused = {"message": message, "request": data.get("request", "")}
    await consumer._send(Envelope("assisted.refused", data=refused))


async def handle_ask(consumer: Any, data: dict[str, Any]) -> None:
    asked, receivers = await consumer._call(room.ask, consumer.seat, data["kind"])
    for receiver in receivers:
        await consumer._to_group(participant_group(receiver), "assisted.asked", asked)
    await consumer._send(Envelope("assisted.asked", data=asked))


async def push(consumer: Any, kind: str, pushes: room.Pushes, *, mine: bool = False) -> None:
    """Each receiver's frame to her; the sender's own copy straight to her socket (``mine``:
    her page takes it as the answer to what she sent)."""
    me = str(consumer.seat.participant.uuid)
    for receiver, data in pushes:
        if receiver == me:
            await consumer._send(Envelope(kind, data={**data, "mine": True} if mine else data))
        else:
            await consumer._to_group(participant_group(receiver), kind, data)


async def handle_reading(consumer: Any, data: dict[str, Any]) -> None:
    try:
        pushes = await consumer._call(room.send_reading, consumer.seat, data)
    except actions.ReadingRefused as error:
        await _refuse(consumer, error.message, data)
        return
    except Http404:
        # Refused by the policy (audited there): not a participant who takes readings.
        await _refuse(consumer, _("You may not send readings in this act."), data)
        return
    await push(consumer, "assisted.reading", pushes, mine=True)


async def handle_mark(consumer: Any, data: dict[str, Any]) -> None:
    what = room.mark_media if data["media"] else room.mark
    uuid = data["media"] or data["observation"]
    try:
        pushes = await consumer._call(what, consumer.seat, uuid, data["significant"])
    except Http404:
        await _refuse(consumer, _("This reading cannot be marked."), data)
        return
    await push(consumer, "assisted.marked", pushes)


def register() -> None:
    frames.extend("assisted.ask", Extension(parse_ask, handle_ask))
    frames.extend("assisted.reading", Extension(parse_reading, handle_reading))
    frames.extend("assisted.mark", Extension(parse_mark, handle_mark))
