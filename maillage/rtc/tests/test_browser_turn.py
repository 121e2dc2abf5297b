"""TURN: Debian's coturn on loopback with a shared secret, both pages forced through it.

The credentials are the ones the platform hands out (``maillage.rtc.config`` from the
settings, coturn's REST-API scheme); coturn accepting them and relaying the media is the proof.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Playwright

from maillage.rtc.config import client_config
from maillage.testing import turn
from maillage.testing.callpage import CallServer, growth, inbound, start_call, wait_connected

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")),
        reason="no database in this test: the PostgreSQL run would prove nothing more",
    ),
]


@pytest.fixture
def relay(tmp_path: Path, settings: Any) -> Iterator[turn.Relay]:
    reason = turn.unavailable()
    if reason is not None:
        pytest.fail(reason)
    with turn.coturn(tmp_path) as running:
        settings.MAILLAGE_STUN_URLS = ""
        settings.MAILLAGE_TURN_URLS = running.url
        settings.MAILLAGE_TURN_SECRET = running.secret
        settings.MAILLAGE_ICE_TRANSPORT_POLICY = "relay"
        yield running


def test_it_carries_the_call_through_the_relay(relay: turn.Relay, _playwright: Playwright) -> None:
    config = client_config("participant-test")
    assert config["iceTransportPolicy"] == "relay"
    with CallServer("127.0.0.1") as server:
        call = start_call(_playwright, server.origin, config)
        try:
            wait_connected(call)
            for page in call.pages:
                stats = inbound(page)
                assert stats["local"] == "relay", stats
            for received in growth(call, 3):
                assert received["audio"] > 0 and received["video"] > 0, received
        finally:
            call.close()
    # coturn saw our participant's REST user name, made from the shared secret.
    assert ":participant-test" in relay.log.read_text()


def test_it_relays_nothing_for_a_wrong_secret(relay: turn.Relay, _playwright: Playwright) -> None:
    config = client_config("participant-test")
    config["iceServers"][0]["credential"] = "bm90IHRoZSBzZWNyZXQ="
    with CallServer("127.0.0.1") as server:
        call = start_call(_playwright, server.origin, config)
        try:
            call.patient.wait_for_function(
                "call.pc.iceGatheringState === 'complete'", timeout=20_000
            )
            assert call.patient.evaluate("call.pc.connectionState") != "connected"
        finally:
            call.close()
