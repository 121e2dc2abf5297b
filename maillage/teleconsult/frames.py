"""The room socket's client frames, checked field by field (no Django here).

Each frame is ``{"type": ..., "data": {...}}``; anything else, or a field
of the wrong shape, is a ``BadFrame`` (the socket answers ``error`` and
closes). A signalling payload is an SDP description or an ICE candidate,
with the id of the peer connection it belongs to; nothing else is relayed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

# An SDP offer with a few codecs and candidates stays well under this.
MAX_FRAME = 64 * 1024
MAX_SDP = 48 * 1024
MAX_CANDIDATE = 1024
MAX_CHAT = 2000
TYPES = frozenset(
    {
        "hello",
        "ping",
        "pong",
        "signal",
        "chat",
        "quality",
        "incident",
        "media",
        "admit",
        "end",
        "leave",
    }
)
QUALITY_LEVELS = frozenset({"good", "fair", "poor", "lost", "unknown"})
QUALITY_NUMBERS = ("rttMs", "lossPct", "inKbps", "outKbps", "availableKbps")
# Drops and reconnections of the media path (ICE), as the network module sees them;
# the socket's own drops are recorded by the server.
INCIDENTS = frozenset({"audio_only", "video_back", "failure", "drop", "reconnection"})
MEDIA_FLAGS = ("audio", "video", "audioOnly", "screen")


@dataclass(frozen=True)
class Extension:
    """Frames another app adds to the room: how its data is checked and what the socket does."""

    parse: Callable[[dict[str, Any]], dict[str, Any]]  # raises BadFrame
    handle: Callable[[Any, dict[str, Any]], Awaitable[None]]  # (the RoomConsumer, data)


# type -> Extension, registered at startup by the apps that extend the room (maillage.assisted).
EXTENSIONS: dict[str, Extension] = {}


def extend(kind: str, extension: Extension) -> None:
    if kind in TYPES:
        raise ValueError(f"{kind} is a frame of the room itself")
    EXTENSIONS[kind] = extension


class BadFrame(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Frame:
    type: str
    data: dict[str, Any] = field(default_factory=dict)


def _uuid(value: object, code: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise BadFrame(code) from None


def _short(value: object, limit: int, code: str) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise BadFrame(code)
    return value


def _signal(data: dict[str, Any]) -> dict[str, Any]:
    to = _uuid(data.get("to"), "bad_target")
    pc = _short(data.get("pc"), 64, "bad_pc")
    payload: dict[str, Any] = {"pc": pc}
    description = data.get("description")
    if isinstance(description, dict):
        kind = description.get("type")
        if kind not in {"offer", "answer", "rollback"}:
            raise BadFrame("bad_description")
        payload["description"] = {
            "type": kind,
            "sdp": _short(description.get("sdp", ""), MAX_SDP, "bad_description"),
        }
    elif "candidate" in data and data["candidate"] is None:
        payload["candidate"] = None  # the end of candidates
    elif isinstance(data.get("candidate"), dict):
        candidate = data["candidate"]
        payload["candidate"] = {
            "candidate": _short(candidate.get("candidate", ""), MAX_CANDIDATE, "bad_candidate"),
            "sdpMid": _short(candidate.get("sdpMid") or "", 32, "bad_candidate") or None,
            "sdpMLineIndex": _small_int(candidate.get("sdpMLineIndex")),
            "usernameFragment": _short(
                candidate.get("usernameFragment") or "", 256, "bad_candidate"
            )
            or None,
        }
    else:
        raise BadFrame("bad_signal")
    return {"to": to, "payload": payload}


def _small_int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 64:
        raise BadFrame("bad_candidate")
    return value


def _quality(data: dict[str, Any]) -> dict[str, Any]:
    level = data.get("level")
    if level not in QUALITY_LEVELS:
        raise BadFrame("bad_quality")
    out: dict[str, Any] = {"level": level}
    for name in QUALITY_NUMBERS:
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e7:
            raise BadFrame("bad_quality")
        out[name] = round(float(value), 1)
    if "audioOnly" in data:
        out["audioOnly"] = bool(data["audioOnly"])
    return out


def parse(text: str | None) -> Frame:
    if text is None or len(text) > MAX_FRAME:
        raise BadFrame("frame_size")
    try:
        raw = json.loads(text)
    except ValueError:
        raise BadFrame("not_json") from None
    if not isinstance(raw, dict):
        raise BadFrame("not_an_object")
    kind = raw.get("type")
    if isinstance(kind, str) and kind in EXTENSIONS:
        data = raw.get("data", {})
        if not isinstance(data, dict):
            raise BadFrame("bad_data")
        return Frame(kind, EXTENSIONS[kind].parse(data))
    if not isinstance(kind, str) or kind not in TYPES:
        raise BadFrame("unknown_type")
    data = raw.get("data", {})
    if not isinstance(data, dict):
        raise BadFrame("bad_data")
    if kind == "signal":
        return Frame(kind, _signal(data))
    if kind == "chat":
        return Frame(kind, {"text": _short(data.get("text"), MAX_CHAT, "bad_text")})
    if kind == "quality":
        return Frame(kind, _quality(data))
    if kind == "incident":
        if data.get("kind") not in INCIDENTS:
            raise BadFrame("bad_incident")
        given = data.get("detail")
        detail: dict[str, Any] = given if isinstance(given, dict) else {}
        kept = {
            str(k)[:30]: v
            for k, v in list(detail.items())[:8]
            if isinstance(v, int | float | str) and not isinstance(v, bool)
        }
        return Frame(kind, {"kind": data["kind"], "detail": kept})
    if kind == "media":
        return Frame(kind, {name: bool(data.get(name)) for name in MEDIA_FLAGS})
    if kind == "admit":
        return Frame(kind, {"participant": _uuid(data.get("participant"), "bad_participant")})
    if kind == "ping":
        t = data.get("t")
        return Frame(
            kind, {"t": t if isinstance(t, int | float) and not isinstance(t, bool) else None}
        )
    return Frame(kind)
