"""Twenty professionals sign in at the same moment on SQLite, for real, and all get in.

Finding 10 of issue 7: "database is locked" at sign-in with 20 concurrent
users. Each sign-in writes the session, the last login, the device's counter
and chained audit entries; SQLite in WAL mode allows one writer, so writers
must queue (busy timeout) and take the write lock when their transaction
begins (IMMEDIATE), not fail when a read turns into a write.

The app is served by uvicorn in a thread (the browser tests' harness); the
twenty clients speak HTTP to it with their own cookies and CSRF tokens.
"""

from __future__ import annotations

import http.cookiejar
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from maillage.audit.models import Action, AuditEntry
from maillage.directory.models import StructureKind
from maillage.testing import factories as f
from maillage.testing.browser import confirmed_device, current_totp

USERS = 20


class _CsrfField(HTMLParser):
    """The value of the form's csrfmiddlewaretoken, read as a browser would."""

    def __init__(self) -> None:
        super().__init__()
        self.token = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "input" and named.get("name") == "csrfmiddlewaretoken":
            self.token = named.get("value") or ""


@dataclass
class Outcome:
    username: str
    status: int = 0
    url: str = ""
    greeted: bool = False
    error: str = ""


class Browser:
    """One person's cookies over plain HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, str, str]:
        with self.opener.open(self.base + path, timeout=60) as response:
            return response.status, response.url, response.read().decode()

    def submit(self, path: str, fields: dict[str, str]) -> tuple[int, str, str]:
        """Load the form, then post it with its CSRF token (redirects followed)."""
        _status, _url, page = self.get(path)
        parser = _CsrfField()
        parser.feed(page)
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": parser.token}).encode()
        # The test server's own http:// address, nothing a user chose.
        request = urllib.request.Request(  # noqa: S310
            self.base + path, data=data, headers={"Referer": self.base + path}
        )
        with self.opener.open(request, timeout=60) as response:
            return response.status, response.url, response.read().decode()


def _sign_in(base: str, username: str, key: bytes, start: threading.Barrier, out: Outcome) -> None:
    browser = Browser(base)
    try:
        start.wait(timeout=60)
        _status, url, _page = browser.submit(
            "/comptes/connexion/", {"username": username, "password": f.PASSWORD}
        )
        assert url.endswith("/comptes/second-facteur/"), url
        out.status, out.url, page = browser.submit(
            "/comptes/second-facteur/", {"code": current_totp(key)}
        )
        out.greeted = "Bonjour" in page
    except (urllib.error.HTTPError, AssertionError, OSError) as error:
        out.error = repr(error)


def test_twenty_professionals_sign_in_at_once(live_url: str, settings: Any) -> None:
    # Argon2 as in production: each sign-in holds a core for a while, as it would.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    f.ensure_communes()
    msp = f.structure("Maison de santé de Sancoins", StructureKind.MSP, "18242")
    people = [
        f.professional(f"medecin{i}", last_name=f"Médecin{i}", structures=(msp,))
        for i in range(USERS)
    ]
    keys = {p.user.username: confirmed_device(p.user) for p in people if p.user}
    start = threading.Barrier(USERS)
    outcomes = [Outcome(name) for name in keys]
    threads = [
        threading.Thread(target=_sign_in, args=(live_url, o.username, keys[o.username], start, o))
        for o in outcomes
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    failed = [o for o in outcomes if o.error or o.status != 200 or not o.greeted]
    assert failed == []
    assert all(o.url == live_url + "/" for o in outcomes)
    signed_in = AuditEntry.objects.filter(action=Action.LOGIN).values_list(
        "actor__username", flat=True
    )
    assert sorted(signed_in) == sorted(keys)


def test_sqlite_queues_writers_instead_of_failing() -> None:
    """What makes the test above pass, read from the settings the server runs with."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 20
