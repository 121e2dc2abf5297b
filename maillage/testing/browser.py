"""Real-browser testing: our ASGI app under uvicorn, Debian's Chromium under Playwright.

No browser is ever downloaded: Playwright drives /usr/bin/chromium, which
``make test`` installs from Debian's packages.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, Request, ViewportSize

from maillage.testing.ports import free_port

CHROMIUM = os.environ.get("MAILLAGE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
if hasattr(os, "geteuid") and os.geteuid() == 0:
    # Chromium refuses to start as root with its sandbox on (CI runs as root).
    CHROMIUM_ARGS.append("--no-sandbox")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PAGE_BUDGET_BYTES = 150 * 1024
PHONE: ViewportSize = {"width": 375, "height": 740}
TABLET: ViewportSize = {"width": 768, "height": 1024}


class ThreadedServer:
    """uvicorn serving maillage.asgi in a background thread of the test process.

    Same process, so the test database settings apply; the tests that use it
    commit their data (transactional_db) so that the server's connections see it.
    """

    def __init__(self) -> None:
        from maillage.asgi import application

        self.port = free_port()
        config = uvicorn.Config(
            application,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="uvicorn")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def check_accessibility(page: Page) -> None:
    """axe-core on the current page: no violation at all."""
    results = Axe().run(page)
    violations = results.response.get("violations", [])
    if violations:
        lines = [
            f"- {v['id']} ({v['impact']}): {v['help']} → "
            + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:5])
            for v in violations
        ]
        raise AssertionError(f"axe-core violations on {page.url}:\n" + "\n".join(lines))


@dataclass
class Transfer:
    """Bytes that crossed the network for the requests seen, headers included."""

    requests: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(size for _, size in self.requests)

    def describe(self) -> str:
        return "\n".join(f"{size:>8} {url}" for url, size in self.requests)


@contextmanager
def measure_transfer(page: Page) -> Iterator[Transfer]:
    """Count what the page loads while the block runs (a cold cache is the caller's job)."""
    transfer = Transfer()

    def finished(request: Request) -> None:
        sizes = request.sizes()
        transfer.requests.append(
            (request.url, sizes["responseBodySize"] + sizes["responseHeadersSize"])
        )

    page.on("requestfinished", finished)
    try:
        yield transfer
        # Events reach us asynchronously: let the page settle before counting.
        page.wait_for_load_state("networkidle")
    finally:
        page.remove_listener("requestfinished", finished)


def assert_light(transfer: Transfer, budget: int = PAGE_BUDGET_BYTES) -> None:
    assert transfer.requests, "no request was measured"
    assert transfer.total <= budget, (
        f"{transfer.total} bytes transferred, budget {budget}:\n{transfer.describe()}"
    )


def assert_fits(page: Page, viewport: ViewportSize) -> None:
    """Nothing overflows sideways at this viewport (phone, tablet)."""
    page.set_viewport_size(viewport)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} overflows by {overflow}px at {viewport}"


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def current_totp(key: bytes, *, drift: int = 0) -> str:
    """The code an authenticator app shows now (``drift=1``: the next one).

    A code cannot be used twice: the second sign-in within 30 s takes the
    next one, which the server accepts within its tolerance of one step.
    """
    from django_otp.oath import totp

    return f"{totp(key, drift=drift):06d}"


def sign_in(page: Page, username: str, password: str, *, totp_key: bytes | None = None) -> None:
    """Sign in through the pages, typing the one-time code when one is asked."""
    page.goto("/comptes/connexion/")
    page.get_by_label("Nom d'utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    if totp_key is not None:
        page.get_by_role("heading", name="Saisissez votre code à usage unique").wait_for()
        page.get_by_label("Code à 6 chiffres").fill(current_totp(totp_key))
        page.get_by_role("button", name="Valider").click()
    page.get_by_role("heading", name="Bonjour", exact=False).wait_for()


def confirmed_device(user: object) -> bytes:
    """Give a professional an enrolled authenticator; return its key."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="Maillage", confirmed=True)
    return bytes(device.bin_key)
