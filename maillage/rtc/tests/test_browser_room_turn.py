"""The room's own pages through TURN: Debian's coturn on loopback with a shared secret, the
installation set to relay every call (MAILLAGE_ICE_TRANSPORT_POLICY=relay). Each participant's
page carries a TURN pair made for them (maillage.rtc.config); coturn accepting the pairs and
relaying both ways is the proof."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Playwright

from maillage.conftest import Personas
from maillage.rtc.tests.roomcall import enter_room, grown
from maillage.teleconsult.models import Participant
from maillage.testing import turn

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")),
        reason="the relay proves nothing more on PostgreSQL (suite time)",
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


def test_it_relays_the_rooms_call_through_coturn(
    relay: turn.Relay, live_url: str, personas: Personas, _playwright: Playwright
) -> None:
    browsers: list[Browser] = []
    try:
        act, pages = enter_room(_playwright, live_url, personas, browsers)
        for page in pages:
            pair = page.evaluate(
                "(() => Object.values(window.MaillageRoom.peers())[0].getStats().then(r => {"
                " let t = [...r.values()].find(s => s.type === 'transport');"
                " let p = r.get(t.selectedCandidatePairId);"
                " return [r.get(p.localCandidateId).candidateType,"
                " r.get(p.remoteCandidateId).candidateType]; }))()"
            )
            assert pair[0] == "relay", pair
        for kind in ("audio", "video"):
            assert all(n > 0 for n in grown(pages, kind, 2)), kind
    finally:
        for browser in browsers:
            browser.close()
    # coturn allocated for each participant under the user name made for them.
    log = relay.log.read_text()
    for place in Participant.objects.filter(consultation=act):
        assert f":{place.uuid}>" in log, place.role
