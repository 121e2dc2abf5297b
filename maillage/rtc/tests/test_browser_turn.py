"""TURN refuses a pair not made with its secret: coturn on loopback, both call pages forced
through it (``iceTransportPolicy: relay``) with a forged credential, and nothing connects.
The room's call through the relay with the platform's own pairs is test_browser_room_turn.py.
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
from maillage.testing.callpage import CallServer, start_call

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
