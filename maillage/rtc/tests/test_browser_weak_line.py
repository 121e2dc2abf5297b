"""The issue's weak line: the patient's browser behind 256 kbit/s, then 64 kbit/s with 5 % loss,
then a 10 s cut. The call keeps its video at 256, goes to audio only at 64 and continues, and
resumes by itself when the line returns (the time it takes is bench/teleconsult.py's figure).

The patient's Chromium runs in a network namespace joined to the server by a veth pair
(maillage.testing.netlab); signalling crosses the same line. The two pages are the network
tests' call page (maillage.testing.callpage) with the real room_network.js.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Playwright

from maillage.testing import netlab
from maillage.testing.callpage import (
    Call,
    CallServer,
    growth,
    start_call,
    wait_connected,
    wait_flowing,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")),
        reason="no database in this test: the PostgreSQL run would prove nothing more",
    ),
]

# The line's return to media flowing again; the goal is 5 s (DESIGN.md), the bench prints it.
RESUME_BOUND_SECONDS = 15


@pytest.fixture
def line(tmp_path: Path) -> Iterator[netlab.Line]:
    reason = netlab.unavailable()
    if reason is not None:
        pytest.skip(f"weak-line part skipped: {reason}")
    with netlab.village_line(tmp_path) as built:
        yield built


@pytest.fixture
def call(line: netlab.Line, _playwright: Playwright) -> Iterator[Call]:
    with CallServer(line.host_addr) as server:
        running = start_call(
            _playwright, server.origin, {"videoMaxKbps": 250}, patient_chromium=str(line.chromium)
        )
        try:
            yield running
        finally:
            running.close()


def test_it_keeps_the_call_on_a_weak_line_and_resumes_after_a_cut(
    line: netlab.Line, call: Call
) -> None:
    wait_connected(call)
    wait_flowing(call, "video")
    # The video sender is capped and scaled down before anything else.
    encoding = call.patient.evaluate(
        "call.pc.getSenders().find(s => s.track && s.track.kind === 'video')"
        ".getParameters().encodings[0]"
    )
    assert 150_000 <= encoding["maxBitrate"] <= 300_000
    assert encoding["scaleResolutionDownBy"] >= 2
    assert encoding["maxFramerate"] <= 15

    # 256 kbit/s: the capped video still passes, both ways.
    line.shape(256)
    growth(call, 4)  # let the congestion control settle
    for received in growth(call, 4):
        assert received["video"] > 0 and received["audio"] > 0, received
    assert not call.patient.evaluate("call.net.audioOnly")

    # 64 kbit/s and 5 % loss: the room goes to audio only by itself, and the call continues.
    line.shape(64)
    line.lose(5)
    call.patient.wait_for_function("call.net.audioOnly", timeout=20_000)
    call.doctor.wait_for_function("call.net.audioOnly", timeout=10_000)
    for received in growth(call, 4):
        assert received["audio"] > 0, received
    kinds = [i["kind"] for page in call.pages for i in page.evaluate("call.incidents")]
    assert "audio_only" in kinds

    # Everything dropped for 10 s, then the (weak) line back: the call resumes by itself.
    line.cut()
    cut_at = time.monotonic()
    call.patient.wait_for_function("call.pc.iceConnectionState !== 'connected'", timeout=10_000)
    time.sleep(max(0.0, 10 - (time.monotonic() - cut_at)))
    line.lose(5)
    seconds = wait_flowing(call, "audio", timeout=RESUME_BOUND_SECONDS)
    assert seconds < RESUME_BOUND_SECONDS
    for page in call.pages:
        page.wait_for_function(
            "call.incidents.some(i => i.kind === 'reconnection')", timeout=10_000
        )
        kinds = [i["kind"] for i in page.evaluate("call.incidents")]
        assert kinds.index("drop") < kinds.index("reconnection"), kinds
