"""Printing the figures. Budgets are compared for information: nothing fails on timing."""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable, Sequence
from pathlib import Path

import django
from django.conf import settings
from django.db import connection

from bench.audit_trail import AuditResult
from bench.fixture import FULL_PAGE, Fixture
from bench.pages import BASELINE, PageResult
from bench.timing import Stats, ratio

PAGE_WEIGHT_BUDGET = 150 * 1024
LATER_BUDGETS = (
    "whole-region dashboard < 500 ms: the budget of a later issue (no such page yet), not measured"
)


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    first, *rest = cells
    return f"{first:<{widths[0]}}" + "".join(
        f"{cell:>{w}}" for cell, w in zip(rest, widths[1:], strict=True)
    )


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], first_width: int) -> None:
    widths = [first_width, *(max(9, len(h) + 2) for h in header[1:])]
    print(_row(header, widths))
    for row in rows:
        print(_row(row, widths))


def database_description() -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        params = connection.settings_dict
        return (
            f"PostgreSQL {version} at {params['HOST'] or 'socket'}:{params['PORT'] or 5432}, "
            f"database {params['NAME']} (DATABASE_URL set)"
        )
    import sqlite3

    path = settings.DATABASES["default"]["NAME"]
    return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL), {path}"


def database_bytes() -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0])
    path = Path(settings.DATABASES["default"]["NAME"])
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def load() -> None:
    """The machine is shared: how busy it was says how far to trust absolute figures."""
    one, five, _ = os.getloadavg()
    print(f"Load average: {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs")


def header(fixture: Fixture, audit_entries: int) -> None:
    print(
        f"Maillage benchmarks: Python {platform.python_version()}, Django {django.get_version()}, "
        f"{os.cpu_count()} CPUs"
    )
    load()
    print(f"Database: {database_description()}")
    built = ", ".join(f"{k} {v:.1f} s" for k, v in fixture.seconds.items())
    print(f"Fixture (built in {built}):")
    width = max(36, *(len(name) + 2 for name in fixture.counts))
    for name, count in fixture.counts.items():
        print(f"  {name:<{width}}{count:>12,}")
    print(f"  {'audit entries (appended below)':<{width}}{audit_entries:>12,}")
    print(f"  {'database size (MB)':<{width}}{database_bytes() / 1e6:>12,.1f}")
    print(
        f"Patient search term: q={fixture.search_name.title()} — {fixture.search_visible} "
        f"patients the doctor may see match, {fixture.search_in_table:,} in the table"
    )
    if fixture.search_visible < FULL_PAGE:
        print(f"  (fewer than {FULL_PAGE}: the search page is not full at this size)")
    print()


def _ms(value: float) -> str:
    return f"{value:.1f}"


def pages(results: list[PageResult], iterations: int, warmup: int) -> None:
    base = next(r.stats for r in results if r.scenario.key == BASELINE)
    print(
        f"Pages: server time in ms, {iterations} requests each, interleaved, after {warmup} "
        "warm-up requests"
    )
    print(
        "  (queries, their time, the most repeated statement, audit entries appended and bytes:"
        " one more request, profiled)"
    )
    _table(
        [
            "request",
            "p50",
            "p95",
            "max",
            "p95/home",
            "queries",
            "SQL ms",
            "repeated",
            "audit+",
            "HTML B",
            "gzip B",
        ],
        (
            [
                r.scenario.label,
                _ms(r.stats.p50),
                _ms(r.stats.p95),
                _ms(r.stats.max),
                f"{ratio(r.stats.p95, base.p95):.2f}x",
                str(r.profile.queries),
                _ms(r.profile.sql_ms),
                str(r.profile.most_repeated),
                str(r.profile.audit_entries),
                f"{r.profile.html_bytes:,}",
                f"{r.profile.gzip_bytes:,}",
            ]
            for r in results
        ),
        first_width=62,
    )
    print()


def budgets(results: list[PageResult]) -> None:
    print("Budgets of DESIGN.md (p95 server time; informative, nothing fails):")
    for r in results:
        if r.scenario.budget_ms is None:
            if r.scenario.key != BASELINE:
                print(
                    f"  {r.scenario.label:<60} p95 {r.stats.p95:7.1f} ms (no budget of its own;"
                    " a patient record's and an inbox's are 50 ms)"
                )
            continue
        verdict = "within budget" if r.stats.p95 <= r.scenario.budget_ms else "OVER budget"
        print(
            f"  {r.scenario.label:<60} p95 {r.stats.p95:7.1f} ms / {r.scenario.budget_ms:.0f} ms"
            f"  {verdict}"
        )
    heaviest = max(
        (r for r in results if not r.scenario.headers), key=lambda r: r.profile.html_bytes
    )
    weight = "within" if heaviest.profile.html_bytes <= PAGE_WEIGHT_BUDGET else "OVER"
    print(
        f"  heaviest HTML: {heaviest.profile.html_bytes / 1024:.1f} KB ({heaviest.scenario.key}); "
        f"page budget 150 KB transferred, all assets included: HTML alone {weight} it"
    )
    print(f"  {LATER_BUDGETS}")
    print()


def audit(result: AuditResult, home: Stats) -> None:
    print("Audit trail (maillage.audit.actions):")
    _table(
        ["appending", "entries", "entries/s", "call p50", "call p95", "p50/home"],
        (
            [
                a.label,
                f"{a.entries:,}",
                f"{a.per_second:,.0f}",
                _ms(a.per_call.p50),
                _ms(a.per_call.p95),
                f"{ratio(a.per_call.p50, home.p50):.2f}x",
            ]
            for a in result.appends
        ),
        first_width=40,
    )
    v = result.verification
    state = "chain intact" if v.intact else "CHAIN BROKEN"
    print(
        f"verify_chain(): {v.entries:,} entries in {v.seconds:.2f} s, "
        f"{v.per_second:,.0f} entries/s ({state})"
    )
    print()


def connection_setup(stats: Stats, home: Stats) -> None:
    print(
        f"New database connection (CONN_MAX_AGE=0: paid by every request in production, "
        f"not in the figures above): p50 {stats.p50:.2f} ms, p95 {stats.p95:.2f} ms, "
        f"{ratio(stats.p50, home.p50):.2f}x home p50"
    )


def statements(results: list[PageResult]) -> None:
    for r in results:
        print(f"--- {r.scenario.label}: {r.profile.queries} queries")
        for sql in r.profile.statements:
            print(f"  {sql[:400]}")
    print()
