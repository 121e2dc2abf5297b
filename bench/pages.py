"""Server time of pages: Django handling real requests in-process.

The test client goes through every middleware (sessions, the second factor,
the audit context...), the real views, the access gate and its audit writes.
Requests of all kinds are interleaved, one of each per round, so that the
shared machine's ups and downs fall on all of them alike and the ratios hold.
"""

from __future__ import annotations

import gzip
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from bench.fixture import Fixture
from bench.timing import Stats
from maillage.accounts.actions import create_api_token
from maillage.accounts.models import User
from maillage.audit.models import AuditChainHead
from maillage.serving import settle_process

PATIENT_BUDGET_MS = 50.0
DIRECTORY_BUDGET_MS = 50.0
INBOX_BUDGET_MS = 50.0
# Issue 8: every FHIR read and search, p95 server time.
FHIR_BUDGET_MS = 50.0
BASELINE = "home"


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    path: Callable[[int], str]
    budget_ms: float | None = None
    # Request headers of this scenario (the FHIR ones: the bearer token, the media type).
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Profile:
    """One more request of a scenario, looked at rather than timed."""

    queries: int
    # How often the most repeated statement ran (with its values blanked): an N+1 shows here.
    most_repeated: int
    audit_entries: int
    # Time spent in the database driver during that request.
    sql_ms: float
    html_bytes: int
    gzip_bytes: int
    statements: tuple[str, ...]
    # Each statement's time as Django measured it (milliseconds), in the same order.
    statement_ms: tuple[float, ...] = ()


@dataclass(frozen=True)
class PageResult:
    scenario: Scenario
    stats: Stats
    profile: Profile


def signed_in(user: User) -> Client:
    """A client past both factors, as maillage/front/tests/test_home.py makes one."""
    client = Client(HTTP_HOST="localhost")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def fhir_headers(user: User) -> tuple[tuple[str, str], ...]:
    """What an API client sends: a bearer token of the user's, and FHIR's media type."""
    token = create_api_token(user, "bench")
    return (("Authorization", f"Bearer {token}"), ("Accept", "application/fhir+json"))


def scenarios(fixture: Fixture) -> list[Scenario]:
    panel = fixture.panel
    threads = fixture.threads
    name = fixture.search_name.title()
    search = "/patients/?" + urlencode({"q": name})
    records = [reverse("records:record", kwargs={"uuid": u}) for u in panel]
    opened = [reverse("messaging:thread", kwargs={"uuid": u}) for u in threads]
    inbox = reverse("messaging:inbox")
    api = fhir_headers(fixture.doctor)
    fhir_search = "/fhir/r4/Patient?" + urlencode({"family": name})
    record_shape = records[0].rsplit("/", 2)[0] + "/<uuid>/"
    thread_shape = opened[0].rsplit("/", 2)[0] + "/<uuid>/"
    return [
        Scenario(BASELINE, "GET / (home, baseline)", lambda i: "/"),
        Scenario(
            "record",
            "GET /patients/<uuid>/ (médecin traitant)",
            lambda i: f"/patients/{panel[i % len(panel)]}/",
            PATIENT_BUDGET_MS,
        ),
        Scenario("search", f"GET /patients/?q={name} (search)", lambda i: search),
        Scenario(
            "directory",
            "GET /annuaire/?specialty=SM04&commune=Sancoins&radius=50",
            lambda i: "/annuaire/?specialty=SM04&commune=Sancoins&radius=50",
            DIRECTORY_BUDGET_MS,
        ),
        Scenario(
            "directory_broad",
            "GET /annuaire/?commune=Bourges&radius=100",
            lambda i: "/annuaire/?commune=Bourges&radius=100",
            DIRECTORY_BUDGET_MS,
        ),
        Scenario(
            "shared_record",
            f"GET {record_shape} (shared record, médecin traitant)",
            lambda i: records[i % len(records)],
            PATIENT_BUDGET_MS,
        ),
        Scenario("inbox", f"GET {inbox} (inbox, first page)", lambda i: inbox, INBOX_BUDGET_MS),
        Scenario(
            "thread",
            f"GET {thread_shape} (one of their recent threads)",
            lambda i: opened[i % len(opened)],
        ),
        Scenario(
            "fhir_read",
            "GET /fhir/r4/Patient/<id> (FHIR read, bearer token)",
            lambda i: f"/fhir/r4/Patient/{panel[i % len(panel)]}",
            FHIR_BUDGET_MS,
            api,
        ),
        Scenario(
            "fhir_search",
            f"GET /fhir/r4/Patient?family={name} (FHIR search)",
            lambda i: fhir_search,
            FHIR_BUDGET_MS,
            api,
        ),
    ]


class UnexpectedResponse(Exception):
    pass


def _get(client: Client, path: str, headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    """The HTML of a page (or a FHIR resource), which must be served (not redirected,
    refused or missing)."""
    response = client.get(path, headers=dict(headers))
    if response.status_code != 200:
        raise UnexpectedResponse(f"{path} answered {response.status_code}, not 200")
    return bytes(response.content)


def _timed_get(client: Client, path: str, headers: tuple[tuple[str, str], ...] = ()) -> float:
    started = time.perf_counter()
    _get(client, path, headers)
    return (time.perf_counter() - started) * 1000


_VALUES = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")


def _most_repeated(statements: list[str]) -> int:
    shapes = Counter(_VALUES.sub("?", sql) for sql in statements)
    return max(shapes.values(), default=0)


def _audit_head() -> int:
    head = AuditChainHead.objects.filter(pk=1).values_list("seq", flat=True).first()
    return head or 0


class _SqlClock:
    """Adds up the time of every statement (an execute wrapper of Django's)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


def profile(client: Client, path: str, headers: tuple[tuple[str, str], ...] = ()) -> Profile:
    before = _audit_head()
    clock = _SqlClock()
    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(clock):
        html = _get(client, path, headers)
    statements = [q["sql"] for q in captured.captured_queries]
    return Profile(
        queries=len(statements),
        most_repeated=_most_repeated(statements),
        audit_entries=_audit_head() - before,
        sql_ms=clock.seconds * 1000,
        html_bytes=len(html),
        gzip_bytes=len(gzip.compress(html)),
        statements=tuple(statements),
        statement_ms=tuple(float(q["time"]) * 1000 for q in captured.captured_queries),
    )


def run(client: Client, cases: list[Scenario], iterations: int, warmup: int) -> list[PageResult]:
    for case in cases:
        for i in range(warmup):
            _get(client, case.path(i), case.headers)
    # As maillage.wsgi and maillage.asgi do once loaded: what lives as long
    # as the process (here also the fixture's builders) leaves the cyclic
    # collector's sight, so that no page pays a walk over all of it.
    settle_process()
    samples: dict[str, list[float]] = {case.key: [] for case in cases}
    for i in range(iterations):
        for case in cases:
            samples[case.key].append(_timed_get(client, case.path(warmup + i), case.headers))
    return [
        PageResult(case, Stats.of(samples[case.key]), profile(client, case.path(0), case.headers))
        for case in cases
    ]


def connection_setup(rounds: int) -> Stats:
    """Opening a database connection, which CONN_MAX_AGE=0 pays on every request.

    The test client keeps one connection for all its requests, so the page
    figures leave this out; production (ASGI, no persistent connections) does not.
    """
    samples = []
    for _ in range(rounds):
        connection.close()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        samples.append((time.perf_counter() - started) * 1000)
    return Stats.of(samples)
