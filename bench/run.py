"""Run the benchmarks: ``python -m bench.run [--patients N] [--iterations N] ...``.

Builds its own database (SQLite in a temporary directory, or the dedicated
PostgreSQL database ``maillage_bench`` when DATABASE_URL is set), fills it,
measures, prints, and removes it unless ``--keep-db``. Exit status is 0
whatever the timings: figures are for reading and comparing as ratios.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from bench import database


def _positive(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--patients",
        type=_positive,
        default=50_000,
        help="rows in the patients table (DESIGN.md's region: 500000)",
    )
    parser.add_argument(
        "--professionals",
        type=_positive,
        default=3_000,
        help="professionals (structures: half as many; practices: 1.5 each)",
    )
    parser.add_argument(
        "--iterations", type=_positive, default=200, help="timed requests of each kind"
    )
    parser.add_argument(
        "--warmup", type=int, default=10, help="untimed requests of each kind first"
    )
    parser.add_argument(
        "--audit-entries",
        type=_positive,
        default=100_000,
        help="entries appended, then verified, before the pages",
    )
    parser.add_argument(
        "--keep-db",
        action="store_true",
        help="keep the database and temporary directory, and say where",
    )
    parser.add_argument(
        "--show-queries", action="store_true", help="print the SQL of one request of each kind"
    )
    return parser.parse_args(argv)


def _setup() -> float:
    import django
    from django.core.management import call_command

    django.setup()
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    return time.perf_counter() - started


def _settle() -> None:
    """What autovacuum would have done on a live PostgreSQL after the bulk loads.

    Without it, plans use no statistics and autovacuum may start in the
    middle of the page measures. SQLite gathers no statistics by itself and
    Maillage runs no ANALYZE, so it is left as the application leaves it.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def _measure(args: argparse.Namespace, migrate_seconds: float) -> None:
    from bench import audit_trail, fixture, pages, report

    sizes = fixture.Sizes(patients=args.patients, professionals=args.professionals)
    print(f"Building the fixture ({sizes.patients:,} patients)...", file=sys.stderr)
    built = fixture.build(sizes)
    built.seconds = {"migrate": migrate_seconds, **built.seconds}
    report.header(built, args.audit_entries)
    print("Appending to the audit trail...", file=sys.stderr)
    audit = audit_trail.run(built.doctor, built.panel, args.audit_entries)
    _settle()
    print("Requesting pages...", file=sys.stderr)
    client = pages.signed_in(built.doctor)
    results = pages.run(client, pages.scenarios(built), args.iterations, args.warmup)
    home = next(r.stats for r in results if r.scenario.key == pages.BASELINE)
    report.pages(results, args.iterations, args.warmup)
    report.budgets(results)
    report.audit(audit, home)
    report.connection_setup(pages.connection_setup(50), home)
    report.load()
    if args.show_queries:
        report.statements(results)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()
    db = database.prepare()
    try:
        _measure(args, _setup())
    finally:
        print(database.dispose(db, keep=args.keep_db), file=sys.stderr)
    print(f"Total run time: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
