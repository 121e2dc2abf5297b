"""What the room takes from the network slice (``maillage.rtc``, ``room_network.js``).

``ice_config(label)``: the browser's ICE configuration from
``maillage.rtc.config`` when that app is installed, else none (loopback
needs no STUN or TURN). ``ice_url(act)``: where the page asks fresh TURN
credentials before an ICE restart (``rtc:ice``, which asks the room's policy).
"""

from __future__ import annotations

import importlib
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse


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


def ice_url(consultation_uuid: object) -> str | None:
    try:
        return reverse("rtc:ice", kwargs={"consultation": consultation_uuid})
    except NoReverseMatch:
        return None
