"""The patient search's plan and time at regional size: ``python -m bench.search_plan``.

Builds the benchmark's directory and ``--patients`` patients (500 000 by
default: DESIGN.md's region) in the database of ``bench.database`` (SQLite,
or PostgreSQL ``maillage_throughput`` when DATABASE_URL is set), then runs
the patient search of the bench doctor (``policy.gate.search_patients``: the
policy's filter, the name criteria, the count and one page) ``--iterations``
times, prints p50 and max, and on PostgreSQL the plan of the page's query
(``EXPLAIN ANALYZE``), so that a per-row subquery or a sequential scan shows.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence

from bench import database
from bench.timing import Stats


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.search_plan", description=__doc__)
    parser.add_argument("--patients", type=int, default=500_000)
    parser.add_argument("--professionals", type=int, default=3_000)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--keep-db", action="store_true")
    return parser.parse_args(argv)


def _measure(args: argparse.Namespace) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from django.db import connection

    from bench.directory_data import build_directory
    from bench.fixture import SEED, Sizes, _doctor_account, _search_name
    from bench.patient_data import build_patients
    from maillage.audit.models import Action
    from maillage.patients.models import Patient
    from maillage.patients.queries import patients_matching
    from maillage.policy.gate import search_patients, visible_patients_q

    sizes = Sizes(patients=args.patients, professionals=args.professionals)
    rng = random.Random(SEED)
    started = time.perf_counter()
    directory = build_directory(
        rng,
        structures=sizes.structures,
        professionals=sizes.professionals,
        practices=sizes.practices,
    )
    built = build_patients(rng, directory, sizes.patients, lambda done: None)
    user = _doctor_account(directory.home_gps[0])
    print(f"fixture: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    name = _search_name(built)
    criteria = patients_matching(name)
    timings = []
    shown = 0
    for _ in range(args.iterations):
        begun = time.perf_counter()
        page = search_patients(user, criteria)
        timings.append((time.perf_counter() - begun) * 1000)
        shown = len(page.patients)
    stats = Stats.of(timings)
    print(
        f"{connection.vendor}, {args.patients:,} patients: search '{name}' "
        f"({shown} shown of {page.total}): p50 {stats.p50:.0f} ms, max {stats.max:.0f} ms "
        f"over {args.iterations} (count, page and 21 audit entries)"
    )
    if connection.vendor == "postgresql":
        query = (
            Patient.objects.filter(visible_patients_q(user, Action.PATIENT_SEARCH))
            .filter(criteria)
            .order_by("birth_name", "first_birth_given_name", "birth_date", "pk")[:20]
        )
        print(query.explain(analyze=True))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    db = database.prepare(database.THROUGHPUT_DATABASE)
    try:
        _measure(args)
    finally:
        print(database.dispose(db, keep=args.keep_db), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
