"""The frames exchanged on the socket: ``{"type": ..., "seq": n, "data": {...}}``.

Server to client: ``welcome`` (after ``hello``: the server's last seq and
whether events were lost to pruning), ``event`` kinds (``seq`` ≥ 1, in
order, each once), ``ping`` and ``pong``, ``error``. Control frames carry
``seq`` 0. Client to server: ``hello`` with ``data.last_seq``, ``ping``,
``pong``. Anything else is refused with an ``error`` frame and a close.
No Django here: the shapes are plain data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

# A client frame is small; anything larger is refused before parsing.
MAX_CLIENT_FRAME = 1024
# seq fits PostgreSQL's bigint; larger is a forged value.
MAX_SEQ = 2**62

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]
ClientType = Literal["hello", "ping", "pong"]
CLIENT_TYPES: frozenset[str] = frozenset({"hello", "ping", "pong"})


@dataclass(frozen=True)
class Envelope:
    type: str
    seq: int = 0
    data: dict[str, JsonValue] = field(default_factory=dict)

    def as_json(self) -> dict[str, JsonValue]:
        return {"type": self.type, "seq": self.seq, "data": self.data}


@dataclass(frozen=True)
class ClientFrame:
    type: ClientType
    last_seq: int = 0


class BadFrame(ValueError):
    """A client frame that is not one of ours; ``code`` goes into the error frame."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_client_frame(text: str | None) -> ClientFrame:
    """A client frame, checked field by field; BadFrame otherwise."""
    if text is None or len(text) > MAX_CLIENT_FRAME:
        raise BadFrame("frame_size")
    try:
        raw = json.loads(text)
    except ValueError:
        raise BadFrame("not_json") from None
    if not isinstance(raw, dict):
        raise BadFrame("not_an_object")
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_TYPES:
        raise BadFrame("unknown_type")
    if kind == "ping":
        return ClientFrame(type="ping")
    if kind == "pong":
        return ClientFrame(type="pong")
    data = raw.get("data", {})
    last_seq = data.get("last_seq", 0) if isinstance(data, dict) else None
    # bool is an int in Python: refuse it explicitly.
    if not isinstance(last_seq, int) or isinstance(last_seq, bool) or not 0 <= last_seq < MAX_SEQ:
        raise BadFrame("bad_last_seq")
    return ClientFrame(type="hello", last_seq=last_seq)
