"""Tele-expertise benchmarks: a specialist's queue of 500 open requests, the response-time figures.

``python -m bench.expertise [--requests 300000] [--open 500] [--iterations 100]``

Its own database, as ``bench.run`` (SQLite in a temporary directory, or
``maillage_bench_expertise`` on the server of DATABASE_URL), with a fixture of its own:
40 specialists in 8 pools of the territory, 2 000 patients, one GP asking,
``--requests`` concluded requests spread over 36 months (their durations
drawn like Omnidoc's published figures: a quarter answered within 3 h, a
quarter after 5 days), and ``--open`` open requests in one specialist's queue
(half hers, half untaken in her pool). Then it times, through Django's test
client signed in past both factors:

- the specialist's queue page (``/teleexpertise/file/``: the query of
  ``expertise.queries.queue_of``, the page of 25 and its audit entries);
- the response-time page of the analyst (``/teleexpertise/chiffres/``, the
  whole territory) and of a pool's coordinator, from the copy kept
  (``FiguresSnapshot``), also right after a change (it shows the kept copy
  as outdated); and the computation itself, which the minute job runs in
  the worker when an answer, a conclusion or a new request moved the
  fingerprint (two index reads, also timed).

Prints figures and never fails on timing (DESIGN.md: p95 ≤ 50 ms for the
queue, ≤ 500 ms for the figures over 300 000 requests).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench import standalone
from bench.timing import Stats


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.expertise", description=__doc__)
    parser.add_argument("--requests", type=int, default=300_000, help="concluded requests")
    parser.add_argument("--open", type=int, default=500, help="open requests in the queue")
    parser.add_argument("--iterations", type=int, default=100, help="timed requests of each kind")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests first")
    parser.add_argument("--keep-db", action="store_true", help="keep the database")
    parser.add_argument(
        "--show-queries", action="store_true", help="print the queue page's statements"
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="cProfile N queue pages, print the top"
    )
    return parser.parse_args(argv)


def _duration(rng: random.Random) -> int:
    """Seconds to the first answer: log-normal, median about 17 h, quartiles near 3 h and 5 d."""
    return int(min(rng.lognormvariate(11.0, 2.0), 60 * 86400))


def build(requests: int, open_requests: int) -> dict[str, Any]:
    from django.utils import timezone

    from maillage.accounts.models import Role
    from maillage.directory.terminology import Specialty
    from maillage.expertise.models import Priority, Request, Status
    from maillage.testing import factories as f

    rng = random.Random(10)
    f.ensure_communes()
    f.ensure_habilitations()
    f.ensure_expertise_data()
    gp = f.professional(
        "bench.gp", last_name="Morel", specialty=Specialty.GENERAL_PRACTICE_QUALIFIED
    )
    pools: list[Any] = []
    specialists: list[list[Any]] = []
    chosen = [s for s in Specialty if s != Specialty.GENERAL_PRACTICE_QUALIFIED][:8]
    for index, pool_specialty in enumerate(chosen):
        members = [
            f.professional(
                f"bench.spec{index}.{n}",
                last_name=f"Spécialiste{index}{n}",
                specialty=pool_specialty,
                accepts_teleexpertise=True,
                teleexpertise_response_hours=48,
            )
            for n in range(5)
        ]
        coordinator = f.professional(f"bench.coord{index}", last_name=f"Coord{index}")
        pools.append(
            f.pool(
                f"Pôle {index} — Centre-Val de Loire",
                pool_specialty,
                (*members, (coordinator, True)),
            )
        )
        specialists.append(members)
    patients = [f.patient(f"PATIENT{n:04d}", "Anne", with_matricule=False) for n in range(2_000)]
    priorities = list(Priority.objects.all())
    now = timezone.now()
    start = time.perf_counter()
    chunk: list[Request] = []
    for n in range(requests):
        pool = pools[n % len(pools)]
        asked = now - dt.timedelta(seconds=rng.randrange(36 * 30 * 86400))
        answer = _duration(rng)
        held = rng.choice((0, 0, 0, 3600 * rng.randrange(1, 48)))
        conclusion = answer + rng.randrange(0, 86400)
        priority = rng.choice(priorities)
        assignee = rng.choice(specialists[n % len(pools)])
        chunk.append(
            Request(
                patient=patients[n % len(patients)],
                requester=gp.user,
                requester_professional=gp,
                pool=pool,
                assignee=assignee,
                specialty=pool.specialty,
                priority=priority,
                status=Status.CONCLUDED,
                created_at=asked,
                updated_at=asked,
                submitted_at=asked,
                claimed_at=asked,
                first_answer_at=asked + dt.timedelta(seconds=answer),
                concluded_at=asked + dt.timedelta(seconds=conclusion + held),
                due_at=asked + dt.timedelta(hours=priority.hours, seconds=held),
                held_seconds=held,
                asked_month=asked.date().replace(day=1),
                answer_seconds=answer,
                conclusion_seconds=conclusion,
                concluded_on_time=conclusion <= priority.hours * 3600,
            )
        )
        if len(chunk) == 10_000:
            Request.objects.bulk_create(chunk)
            chunk = []
            print(f"  {n + 1:,} requests", file=sys.stderr)
    Request.objects.bulk_create(chunk)
    concluded_seconds = time.perf_counter() - start
    # The queue: half hers (claimed), half untaken in her pool; soon due to a week away.
    specialist = specialists[0][0]
    urgent = next(p for p in priorities if p.code == "urgent")
    Request.objects.bulk_create(
        Request(
            patient=patients[n % len(patients)],
            requester=gp.user,
            requester_professional=gp,
            pool=pools[0],
            assignee=specialist if n % 2 else None,
            specialty=pools[0].specialty,
            priority=urgent,
            status=Status.CLAIMED if n % 2 else Status.WAITING,
            submitted_at=now - dt.timedelta(hours=1),
            claimed_at=now if n % 2 else None,
            due_at=now + dt.timedelta(minutes=rng.randrange(-600, 7 * 24 * 60)),
            remind_half_at=now + dt.timedelta(days=30),
            remind_ninety_at=now + dt.timedelta(days=30),
            question="Question",
            asked_month=now.date().replace(day=1),
        )
        for n in range(open_requests)
    )
    analyst = f.user("bench.analyst", Role.ANALYST)
    coordinator_user = pools[0].members.get(is_coordinator=True).professional.user
    return {
        "specialist": specialist.user,
        "analyst": analyst,
        "coordinator": coordinator_user,
        "seconds": concluded_seconds,
    }


def _time(action: Callable[[], object], iterations: int, warmup: int) -> Stats:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return Stats.of(samples)


def _page(client: Any, path: str) -> Callable[[], object]:
    def get() -> object:
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        return response

    return get


def _outdated(client: Any, path: str) -> Callable[[], object]:
    """The page right after an answer elsewhere: it shows the copy kept, said outdated."""
    from maillage.expertise import figures

    get = _page(client, path)

    def outdated_get() -> object:
        figures._bump()
        return get()

    return outdated_get


def measure(args: argparse.Namespace) -> None:
    from django.db import connection

    from bench.pages import profile, signed_in
    from bench.report import database_description, load
    from maillage.expertise import figures, queries

    print(f"Building {args.requests:,} concluded and {args.open} open requests...", file=sys.stderr)
    built = build(args.requests, args.open)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(f"Database: {database_description()}")
    load()
    print(
        f"Fixture: {args.requests:,} concluded requests (inserted in {built['seconds']:.0f} s), "
        f"{args.open} open in one specialist's queue"
    )
    specialist = signed_in(built["specialist"])
    analyst = signed_in(built["analyst"])
    coordinator = signed_in(built["coordinator"])
    few = max(5, args.iterations // 5)
    cases: list[tuple[str, Callable[[], object], int]] = [
        ("queue page (500 open, page of 25)", _page(specialist, "/teleexpertise/file/"), 0),
        (
            "queue query (queue_of, first 25)",
            lambda: list(queries.queue_of(built["specialist"])[:25]),
            0,
        ),
        ("figures page, analyst (territory)", _page(analyst, "/teleexpertise/chiffres/"), 0),
        ("figures page, a pool's coordinator", _page(coordinator, "/teleexpertise/chiffres/"), 0),
        (
            "figures page, kept copy outdated",
            _outdated(analyst, "/teleexpertise/chiffres/"),
            0,
        ),
        (
            "figures computed (the worker's minute job)",
            lambda: figures.figures_for(figures.TERRITORY, fresh=True),
            1,
        ),
        ("figures: the fingerprint alone", figures._fingerprint, 0),
    ]
    print(f"{'what':<42}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name, action, slow in cases:
        stats = _time(action, few if slow else args.iterations, args.warmup)
        print(f"{name:<42}{stats.count:>6}{stats.p50:>10.1f}{stats.p95:>10.1f}{stats.max:>10.1f}")
    queue = profile(specialist, "/teleexpertise/file/")
    print(
        f"queue page: {queue.queries} statements, {queue.sql_ms:.1f} ms in the database, "
        f"{queue.audit_entries} audit entries, {queue.gzip_bytes:,} bytes gzipped"
    )
    if args.show_queries:
        for statement, ms in zip(queue.statements, queue.statement_ms, strict=True):
            print(f"  {ms:6.2f} ms  {statement[:150]}")
    if args.profile:
        _profile(_page(specialist, "/teleexpertise/file/"), args.profile)
    load()


def _profile(action: Callable[[], object], times: int) -> None:
    """Where a page's time goes in Python: the functions of most own time, then cumulative."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(times):
        action()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(20)
    stats.sort_stats("cumulative").print_stats(40)
    # Our own code's share, below the middleware.
    stats.sort_stats("cumulative").print_stats(r"/maillage/(?!.*middleware)", 40)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    return standalone.run("maillage_bench_expertise", lambda: measure(args), keep=args.keep_db)


if __name__ == "__main__":
    sys.exit(main())
