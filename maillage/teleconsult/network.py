"""What the network slice's pieces ask of the room (``maillage.rtc``, ``room_network.js``).

``seated_participant(request, act)``: the participant's uuid once seated in
the act's room (the policy decides and audits), Http404 otherwise; the TURN
credentials view asks it. ``ice_config(label)``: the browser's ICE
configuration from ``maillage.rtc.config`` when that app is installed, else
none (loopback needs no STUN or TURN).
"""

from __future__ import annotations

import importlib
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from maillage.audit.models import Action
from maillage.policy.teleconsult import take_seat
from maillage.teleconsult.visitors import from_request


def seated_participant(request: HttpRequest, consultation_uuid: str) -> str:
    seat = take_seat(
        from_request(request, consultation_uuid),
        consultation_uuid,
        Action.TELECONSULT_READ,
        admitted=True,
        detail={"ice": True},
    )
    return str(seat.participant.uuid)


def ice_config(label: str) -> dict[str, Any]:
    try:
        config = importlib.import_module("maillage.rtc.config")
    except ImportError:
        config = None
    builder = getattr(config, "client_config", None)
    if callable(builder):
        return dict(builder(label))
    return {
        "iceServers": list(getattr(settings, "MAILLAGE_ICE_SERVERS", [])),
        "iceTransportPolicy": "all",
        "videoMaxKbps": 250,
    }
