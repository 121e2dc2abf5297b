"""Who may have relay credentials: a participant seated in the act's room now.

The room's policy (``maillage.policy.teleconsult``, of the teleconsult app)
decides and audits; this module only asks it. While that app is not
installed, nobody gets a TURN pair: the hook fails closed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from django.http import Http404, HttpRequest

# The room's gate, as the room slice exposes it: (request, consultation uuid)
# -> the participant's uuid once seated in the room, Http404 otherwise.
RoomGate = Callable[[HttpRequest, str], str]
ROOM_GATE = "maillage.teleconsult.network:seated_participant"


def _room_gate() -> RoomGate | None:
    module_name, _, name = ROOM_GATE.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    gate = getattr(module, name, None)
    return gate if callable(gate) else None


def relay_label(request: HttpRequest, consultation_uuid: str) -> str:
    """The seated participant's opaque id (their uuid), or Http404 as for anything refused."""
    gate = _room_gate()
    if gate is None:
        raise Http404
    return gate(request, consultation_uuid)
