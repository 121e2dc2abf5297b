"""The teleconsultation room in real Chromium pages: fake devices, contexts, media checks.

Chromium's own fake camera (a test pattern) and microphone (a beep) are
allowed without a prompt; ``media_flows`` reads the room's own getStats
summary (``window.MaillageRoom.inbound()`` in room.js).
"""

from __future__ import annotations

import time

from playwright.sync_api import Browser, BrowserContext, Page, expect

from maillage.testing.browser import PHONE

MEDIA_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]

# Generous but bounded: the machine also runs the server, the database and other browsers.
WAIT_MS = 20_000


def media_context(browser: Browser, live_url: str) -> BrowserContext:
    """A person's browser at phone width, in French, camera and microphone allowed."""
    context = browser.new_context(
        base_url=live_url,
        locale="fr-FR",
        timezone_id="Europe/Paris",
        viewport=PHONE,
        permissions=["camera", "microphone"],
    )
    context.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    return context


def inbound(page: Page) -> dict[str, int]:
    """Bytes received by kind and the connected peers, as the room's page reads getStats."""
    result = page.evaluate("() => window.MaillageRoom.inbound()")
    assert isinstance(result, dict), result
    return result


def media_flows(page: Page, peers: int, timeout: float = 25, growing: float = 12) -> dict[str, int]:
    """Wait until sound and picture come in from ``peers`` connections, then see both grow.

    Growth is awaited up to ``growing`` seconds rather than over a fixed pause:
    on a loaded machine Chromium's encoder skips frames for a second or two
    (its CPU adaptation), which is a slow picture, not a broken call.
    """
    deadline = time.monotonic() + timeout
    first = inbound(page)
    while time.monotonic() < deadline:
        if first["connected"] >= peers and first["audio"] > 0 and first["video"] > 0:
            break
        time.sleep(0.3)
        first = inbound(page)
    assert first["connected"] >= peers, first
    deadline = time.monotonic() + growing
    later = inbound(page)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        later = inbound(page)
        if later["audio"] > first["audio"] and later["video"] > first["video"]:
            break
    assert later["audio"] > first["audio"] and later["video"] > first["video"], (first, later)
    return later
