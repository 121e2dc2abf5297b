"""The audit trail: appending (one entry, a search page's worth, big batches) and verifying.

The appends fill the trail with ``--audit-entries`` entries before the pages
are measured, so that pages append to a trail of realistic length, and
``verify_chain`` then walks exactly that many.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from bench.timing import Stats
from maillage.accounts.models import User
from maillage.audit.actions import Event, record, record_many, verify_chain
from maillage.audit.models import Action
from maillage.patients.models import Patient

# Share of the entries appended one by one and by search pages; the rest in big batches.
SINGLE_SHARE = 0.02
PAGE_SHARE = 0.2
PAGE_BATCH = 21  # a search page: the search and its 20 results
BIG_BATCH = 500


@dataclass(frozen=True)
class Appending:
    label: str
    entries: int
    seconds: float
    per_call: Stats

    @property
    def per_second(self) -> float:
        return self.entries / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Verification:
    entries: int
    seconds: float
    intact: bool

    @property
    def per_second(self) -> float:
        return self.entries / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class AuditResult:
    appends: list[Appending]
    verification: Verification


def _events(patients: list[Patient], action: str) -> Callable[[int], list[Event]]:
    rotation = itertools.cycle(patients)

    def batch(size: int) -> list[Event]:
        return [
            Event(action=action, patient=next(rotation), basis="treating_doctor")
            for _ in range(size)
        ]

    return batch


def _append(label: str, entries: int, size: int, call: Callable[[int], object]) -> Appending:
    timings = []
    done = 0
    started = time.perf_counter()
    while done < entries:
        size_now = min(size, entries - done)
        call_started = time.perf_counter()
        call(size_now)
        timings.append((time.perf_counter() - call_started) * 1000)
        done += size_now
    return Appending(label, done, time.perf_counter() - started, Stats.of(timings))


def _plan(total: int) -> tuple[int, int, int]:
    single = max(1, int(total * SINGLE_SHARE))
    page = int(total * PAGE_SHARE) // PAGE_BATCH * PAGE_BATCH
    return single, page, max(0, total - single - page)


def run(actor: User, panel: list[uuid.UUID], total: int) -> AuditResult:
    patients = list(Patient.objects.filter(uuid__in=panel[:500]))
    read = _events(patients, Action.PATIENT_READ)
    seen = _events(patients, Action.PATIENT_SEARCH)
    single, page, big = _plan(total)
    appends = [
        _append("record(): 1 entry a transaction", single, 1, lambda n: record(actor, read(n)[0])),
        _append(
            f"record_many(): {PAGE_BATCH} a transaction",
            page,
            PAGE_BATCH,
            lambda n: record_many(actor, seen(n)),
        ),
        _append(
            f"record_many(): {BIG_BATCH} a transaction",
            big,
            BIG_BATCH,
            lambda n: record_many(actor, seen(n)),
        ),
    ]
    started = time.perf_counter()
    report = verify_chain()
    verification = Verification(report.entries, time.perf_counter() - started, report.intact)
    return AuditResult([a for a in appends if a.entries], verification)
