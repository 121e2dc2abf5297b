"""Either side chooses audio only at any time, and brings the video back; the peer follows.

Two Chromiums on loopback through the network tests' call page (maillage.testing.callpage)
with the real room_network.js; the page relays the choice as the room does (onAudioOnly).
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Playwright

from maillage.testing.callpage import CallServer, growth, start_call, wait_connected, wait_flowing

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")),
        reason="no database in this test: the PostgreSQL run would prove nothing more",
    ),
]


def test_it_switches_both_sides_to_audio_only_and_back(_playwright: Playwright) -> None:
    with CallServer("127.0.0.1") as server:
        call = start_call(_playwright, server.origin, {})
        try:
            wait_connected(call)
            wait_flowing(call, "video")
            # The patient chooses audio only: her video stops, the doctor's follows.
            call.patient.evaluate("call.net.setAudioOnly(true, 'local')")
            call.doctor.wait_for_function("call.net.audioOnly", timeout=10_000)
            growth(call, 1)  # frames already on their way
            for received in growth(call, 3):
                assert received["video"] == 0 and received["audio"] > 0, received
            sent = call.patient.evaluate("call.incidents.map(i => [i.kind, i.detail.origin])")
            assert ["audio_only", "local"] in sent
            # The doctor brings the video back: both send it again.
            call.doctor.evaluate("call.net.setAudioOnly(false, 'local')")
            call.patient.wait_for_function("!call.net.audioOnly", timeout=10_000)
            wait_flowing(call, "video", timeout=10)
            back = call.doctor.evaluate("call.incidents.map(i => i.kind)")
            assert "video_back" in back
        finally:
            call.close()
