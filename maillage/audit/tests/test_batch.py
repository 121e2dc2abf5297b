"""The per-process group commit (``maillage.audit.actions._GroupCommit``).

A request outside a transaction waits for the batch that holds its entries
to commit; the requests that arrive while one batch is written go together
in the next. The first tests drive the batching itself with a writer of
their own that records what it was given (so that the timing of a batch can
be held still); the last ones write real entries from many threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connections

from maillage.audit.actions import AuditWriteFailed, Event, _GroupCommit, record, verify_chain
from maillage.audit.models import Action, AuditEntry

WAITING = 5


def _entry(label: str) -> AuditEntry:
    return AuditEntry(action=Action.SEARCH, reason=label)


def _until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the callers never queued")
        time.sleep(0.005)


class _HeldWriter:
    """Writes nothing; holds its first batch until told, and records every batch."""

    def __init__(self, fail_second: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.release = threading.Event()
        self.fail_second = fail_second

    def __call__(self, entries: list[AuditEntry]) -> None:
        if not self.batches:
            self.release.wait(10)
        self.batches.append([e.reason for e in entries])
        if self.fail_second and len(self.batches) == 2:
            raise RuntimeError("disk full")


def _callers(group: _GroupCommit, labels: list[str]) -> tuple[list[threading.Thread], dict]:
    outcome: dict[str, object] = {}

    def call(label: str) -> None:
        try:
            group.commit([_entry(label)])
            outcome[label] = "committed"
        except AuditWriteFailed as failed:
            outcome[label] = failed
        except RuntimeError as failed:
            outcome[label] = failed

    threads = [threading.Thread(target=call, args=(label,)) for label in labels]
    for thread in threads:
        thread.start()
    return threads, outcome


def test_callers_arriving_during_a_write_are_written_together_after_it() -> None:
    writer = _HeldWriter()
    group = _GroupCommit(writer)
    first, first_outcome = _callers(group, ["first"])
    _until(lambda: group._writing)
    others, outcome = _callers(group, [f"r{n}" for n in range(WAITING)])
    _until(lambda: len(group._queued) == WAITING)
    # Nobody returns while their batch is not written.
    assert first_outcome == {} and outcome == {}
    writer.release.set()
    for thread in [*first, *others]:
        thread.join(10)
    assert writer.batches[0] == ["first"]
    assert sorted(writer.batches[1]) == [f"r{n}" for n in range(WAITING)]
    assert len(writer.batches) == 2
    assert set(outcome.values()) == {"committed"} and first_outcome == {"first": "committed"}


def test_a_failed_batch_fails_every_caller_in_it_and_only_them() -> None:
    writer = _HeldWriter(fail_second=True)
    group = _GroupCommit(writer)
    first, _ = _callers(group, ["first"])
    _until(lambda: group._writing)
    others, outcome = _callers(group, ["a", "b", "c"])
    _until(lambda: len(group._queued) == 3)
    writer.release.set()
    for thread in [*first, *others]:
        thread.join(10)
    # The leader raises the writer's own error, the others say their batch failed.
    assert sorted(type(o).__name__ for o in outcome.values()) == [
        "AuditWriteFailed",
        "AuditWriteFailed",
        "RuntimeError",
    ]
    assert all(
        isinstance(o.__cause__, RuntimeError)
        for o in outcome.values()
        if isinstance(o, AuditWriteFailed)
    )
    # The group is free again: the next caller leads and is written.
    group.commit([_entry("after")])
    assert writer.batches[-1] == ["after"]


@pytest.mark.django_db(transaction=True)
def test_entries_appended_from_many_threads_are_committed_when_record_returns(personas) -> None:
    user = personas.treating_doctor.user
    late: list[str] = []
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def appender(n: int) -> None:
        try:
            start.wait(10)
            for k in range(5):
                entry = record(user, Event(action=Action.SEARCH, reason=f"bt{n}-{k}"))
                # On this thread's own connection: only a committed row is seen.
                if not AuditEntry.objects.filter(pk=entry.pk, reason=f"bt{n}-{k}").exists():
                    late.append(entry.reason)
        except BaseException as error:  # surfaced below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=appender, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == [] and late == []
    entries = AuditEntry.objects.filter(reason__startswith="bt", action=Action.SEARCH)
    assert entries.count() == 40
    # Each thread's entries keep their order in the chain.
    for n in range(8):
        mine = list(
            entries.filter(reason__startswith=f"bt{n}-")
            .order_by("seq")
            .values_list("reason", flat=True)
        )
        assert mine == [f"bt{n}-{k}" for k in range(5)]
    report = verify_chain()
    assert report.intact and report.pending == 0
