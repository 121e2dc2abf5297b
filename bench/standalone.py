"""What a benchmark of one capability shares: its own database around the measure, timed calls.

``python -m bench.acts`` and ``bench.agenda`` each make
a database of their own (``bench.database``, under a name of their own so
they may run side by side), migrate it, build their fixture and time a few
calls, then remove it unless ``--keep-db``::

    def main(argv=None):
        args = parse(argv)
        return standalone.run("maillage_bench_agenda", lambda: measure(args), keep=args.keep_db)

No Django import at module level: ``run`` sets the settings up first.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import database
from bench.timing import Stats


def add_keep_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keep-db", action="store_true", help="keep the database")


def run(name: str, measure: Callable[[], object], *, keep: bool) -> int:
    """Prepare the database ``name``, set Django up and migrate, measure, dispose; exit status."""
    started = time.perf_counter()
    db = database.prepare(name)
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0, interactive=False)
        measure()
    finally:
        print(database.dispose(db, keep=keep), file=sys.stderr)
    print(f"Total run time: {time.perf_counter() - started:.0f} s")
    return 0


def timed(function: Callable[[], Any], iterations: int) -> Stats:
    """Milliseconds of each call, one after another."""
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return Stats.of(samples)


def show(label: str, stats: Stats, width: int = 48) -> None:
    print(
        f"{label:<{width}} n={stats.count:<4} p50 {stats.p50:8.1f} ms  "
        f"p95 {stats.p95:8.1f} ms  max {stats.max:8.1f} ms"
    )
