"""The room's own pages on the issue's weak line: the patient's browser in a network namespace.

The doctor (signed in with her code) opens the room, the patient consents, waits and is
admitted; both pages are maillage.teleconsult's act page with room.js and room_network.js,
their signalling on the room's WebSocket across the same shaped line (maillage.testing.netlab:
a veth pair, tc tbf, nftables). The video is capped; at 256 kbit/s it still passes; at
64 kbit/s with 5 % loss the room goes to audio only and the call continues; after a 10 s cut
it resumes by itself, without a new admission; the incidents are kept with the act. The time
from the line's return to media flowing is bench/teleconsult.py's figure (on the call page of
maillage.testing.callpage); the bound here is generous.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Playwright

from maillage.conftest import Personas
from maillage.rtc.tests.roomcall import enter_room, grown, until, wait_flowing
from maillage.teleconsult.models import Incident, IncidentKind, Participant
from maillage.testing import netlab

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")),
        reason="the weak line proves nothing more on PostgreSQL (suite time)",
    ),
]

RESUME_BOUND_SECONDS = 15


@pytest.fixture
def server(line: netlab.Line, transactional_db: None, settings: Any) -> Iterator[str]:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, line.host_addr]
    running = netlab.HostServer(line.host_addr)
    running.start()
    yield running.url
    running.stop()


def test_it_keeps_the_rooms_call_on_a_weak_line(
    line: netlab.Line, server: str, personas: Personas, _playwright: Playwright
) -> None:
    browsers: list[Browser] = []
    try:
        act, pages = enter_room(_playwright, server, personas, browsers, str(line.chromium))
        patient = pages[1]
        wait_flowing(pages, "video", 20)
        # room_network.js capped the video and scaled it down (room.js attached it).
        sender = patient.evaluate(
            "(() => { const s = Object.values(window.MaillageRoom.peers())[0].getSenders()"
            ".find(s => s.track && s.track.kind === 'video');"
            " return {e: s.getParameters().encodings[0], h: s.track.getSettings().height}; })()"
        )
        encoding = sender["e"]
        assert 150_000 <= encoding["maxBitrate"] <= 300_000, encoding
        assert sender["h"] / encoding["scaleResolutionDownBy"] <= 241, sender
        assert encoding["maxFramerate"] <= 15

        # 256 kbit/s: the capped video still passes, both ways.
        line.shape(256)
        grown(pages, "video", 3)  # the congestion control settles
        assert all(n > 0 for n in grown(pages, "video", 4))
        assert patient.locator("[data-toggle='audio-only'][aria-pressed='true']").count() == 0

        line.shape(64)
        line.lose(5)
        patient.wait_for_selector("[data-toggle='audio-only'][aria-pressed='true']", timeout=25_000)
        assert all(n > 0 for n in grown(pages, "audio", 4))

        line.cut()
        cut_at = time.monotonic()
        until(
            patient,
            "Object.values(window.MaillageRoom.peers())"
            ".some(pc => pc.iceConnectionState !== 'connected')",
            10,
        )
        time.sleep(max(0.0, 10 - (time.monotonic() - cut_at)))
        line.lose(5)
        seconds = wait_flowing(pages, "audio", RESUME_BOUND_SECONDS)
        assert seconds < RESUME_BOUND_SECONDS
        # No second admission: the patient's place is the one admitted at first.
        place = Participant.objects.get(consultation=act, user=personas.patient_user)
        assert place.admitted_at is not None and place.left_at is None
        deadline = time.monotonic() + 15
        wanted = {IncidentKind.AUDIO_ONLY, IncidentKind.DROP, IncidentKind.RECONNECTION}
        while time.monotonic() < deadline:
            kinds = set(Incident.objects.filter(consultation=act).values_list("kind", flat=True))
            if wanted <= kinds:
                break
            time.sleep(0.5)
        assert wanted <= kinds, kinds
    finally:
        for browser in browsers:
            browser.close()
