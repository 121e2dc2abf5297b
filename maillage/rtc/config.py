"""The ICE configuration a participant's browser gets, from settings."""

from __future__ import annotations

import time
from typing import TypedDict

from django.conf import settings

from maillage.lib.ice import IceServer, IceSettings, ice_servers, parse_urls


class ClientConfig(TypedDict):
    """What room_network.js reads (``MaillageNetwork.configuration``)."""

    iceServers: list[IceServer]
    iceTransportPolicy: str
    # The TURN pair expires after this many seconds; the page asks again before an ICE restart.
    credentialsTtl: int
    videoMaxKbps: int


def ice_settings() -> IceSettings:
    return IceSettings(
        stun_urls=parse_urls(settings.MAILLAGE_STUN_URLS),
        turn_urls=parse_urls(settings.MAILLAGE_TURN_URLS),
        turn_secret=settings.MAILLAGE_TURN_SECRET,
        turn_username=settings.MAILLAGE_TURN_USERNAME,
        turn_password=settings.MAILLAGE_TURN_PASSWORD,
        ttl_seconds=settings.MAILLAGE_TURN_TTL_SECONDS,
        transport_policy=settings.MAILLAGE_ICE_TRANSPORT_POLICY,
    )


def client_config(label: str) -> ClientConfig:
    """The configuration for one participant; ``label`` is an opaque id (the participant's uuid).

    Hand it only to someone the room's policy seated (the room's page, or
    ``views.ice`` which asks it): the TURN pair lets its holder relay traffic.
    """
    config = ice_settings()
    return {
        "iceServers": ice_servers(config, label, now=time.time()),
        "iceTransportPolicy": config.transport_policy,
        "credentialsTtl": config.ttl_seconds,
        "videoMaxKbps": settings.MAILLAGE_VIDEO_MAX_KBPS,
    }
