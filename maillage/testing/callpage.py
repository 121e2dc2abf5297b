"""A two-page WebRTC call for the network tests: its page, its script and a tiny signalling relay.

Until the room's pages (maillage.teleconsult) carry a whole call, the weak-line,
TURN and benchmark runs use this page: the real ``room_network.js`` attached to
a real RTCPeerConnection between two Chromiums, offers and candidates relayed
by long polling through this server. The server listens where it is told (the
host's end of the veth pair), so the patient's signalling crosses the
weak line like her media.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Browser, Page, Playwright

from maillage.testing.browser import CHROMIUM
from maillage.testing.netlab import chromium_args

STATIC = Path(__file__).resolve().parents[1] / "front" / "static" / "maillage" / "js"
HERE = Path(__file__).resolve().parent
POLL_SECONDS = 2.0

PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Appel de test</title></head>
<body><main><h1>Appel de test</h1>
<video id="remote" autoplay playsinline muted></video>
<script src="/room_network.js"></script><script src="/callpage.js"></script>
</main></body></html>
"""


class Relay:
    """Messages to each peer of each call, in order; a poll waits for new ones."""

    def __init__(self) -> None:
        self._queues: dict[str, list[str]] = {}
        self._changed = threading.Condition()

    def post(self, box: str, message: str) -> None:
        with self._changed:
            self._queues.setdefault(box, []).append(message)
            self._changed.notify_all()

    def poll(self, box: str, after: int, wait: float) -> list[str]:
        deadline = time.monotonic() + wait
        with self._changed:
            while len(self._queues.get(box, [])) <= after:
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._changed.wait(left)
            return self._queues[box][after:]


class _Handler(BaseHTTPRequestHandler):
    server: CallServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, body: bytes, content_type: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/call.html":
            self._send(PAGE.encode(), "text/html; charset=utf-8")
        elif url.path == "/room_network.js":
            self._send((STATIC / "room_network.js").read_bytes(), "text/javascript")
        elif url.path == "/callpage.js":
            self._send((HERE / "callpage.js").read_bytes(), "text/javascript")
        elif url.path.startswith("/signal/"):
            after = int(parse_qs(url.query).get("after", ["0"])[0])
            messages = self.server.relay.poll(url.path, after, POLL_SECONDS)
            self._send(json.dumps(messages).encode(), "application/json")
        else:
            self._send(b"not found", "text/plain", HTTPStatus.NOT_FOUND)

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode()
        if not url.path.startswith("/signal/"):
            self._send(b"not found", "text/plain", HTTPStatus.NOT_FOUND)
            return
        self.server.relay.post(url.path, body)
        self._send(b"{}", "application/json")


class CallServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str) -> None:
        super().__init__((host, 0), _Handler)
        self.host = host
        self.relay = Relay()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True, name="callpage")

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.server_address[1]}"

    def handle_error(self, request: object, client_address: object) -> None:
        """A browser that hung up (a cut line, a closed page) is not an error of the test."""

    def __enter__(self) -> CallServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


def call_url(origin: str, call: str, me: str, peer: str) -> str:
    return f"{origin}/call.html?call={call}&me={me}&peer={peer}"


# --- Driving a call from a test or a benchmark -----------------------------------------

Config = Mapping[str, object]


@dataclass
class Call:
    doctor: Page
    patient: Page
    browsers: list[Browser] = field(default_factory=list)

    @property
    def pages(self) -> tuple[Page, Page]:
        return (self.doctor, self.patient)

    def close(self) -> None:
        for browser in self.browsers:
            browser.close()


def inbound(page: Page) -> dict[str, Any]:
    """The page's own reading of getStats: bytes in and out by kind, the selected pair's types."""
    result = page.evaluate("call.inbound()")
    assert isinstance(result, dict), result
    return result


def start_call(
    playwright: Playwright,
    origin: str,
    config: Config,
    *,
    patient_chromium: str = CHROMIUM,
    name: str = "call",
) -> Call:
    """Two Chromiums (the patient's maybe inside a namespace), both pages started at once."""
    args = chromium_args(origin)
    call = Call(doctor=None, patient=None)  # type: ignore[arg-type]
    for who, executable in (("doctor", CHROMIUM), ("patient", patient_chromium)):
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=args)
        call.browsers.append(browser)
        page = browser.new_page()
        page.set_default_timeout(30_000)
        peer = "patient" if who == "doctor" else "doctor"
        page.goto(call_url(origin, name, who, peer))
        setattr(call, who, page)
    for page in call.pages:
        page.evaluate("config => call.start(config)", dict(config))
    return call


def wait_connected(call: Call, timeout: float = 20) -> None:
    for page in call.pages:
        page.wait_for_function("call.connectedAt !== null", timeout=timeout * 1000)


def wait_flowing(call: Call, kind: str = "audio", timeout: float = 20, step: float = 0.05) -> float:
    """Seconds until ``kind`` bytes arrive anew on both pages (TimeoutError past ``timeout``)."""
    started = time.monotonic()
    before = [inbound(page)[kind] for page in call.pages]
    grown = [False, False]
    while not all(grown):
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"no new {kind} bytes on both sides within {timeout} s")
        time.sleep(step)
        for i, page in enumerate(call.pages):
            grown[i] = grown[i] or inbound(page)[kind] > before[i]
    return time.monotonic() - started


def growth(call: Call, seconds: float) -> list[dict[str, int]]:
    """Bytes received by kind on each page over ``seconds``."""
    before = [inbound(page) for page in call.pages]
    time.sleep(seconds)
    after = [inbound(page) for page in call.pages]
    return [{k: after[i][k] - before[i][k] for k in ("audio", "video")} for i in range(2)]
