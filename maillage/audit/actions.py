"""Appending to the audit trail. The only writer of AuditEntry.

Two ways in, one chain:

- **Inside a transaction** (``record`` called within ``transaction.atomic``:
  a change and its entry must commit or fail together), the entry is chained
  at once under the head's row lock and commits with the caller's work.

- **Outside any transaction** (a read: the entry is the only thing
  written, e.g. a FHIR ``Patient/<id>``), the entries of the process's
  concurrent requests are written together (``_GroupCommit``: a per-worker
  batch, committed before any of its requests is answered), chained at once
  in one short transaction of their own under the head's row lock (on
  PostgreSQL, a batch that waits for it more than ``HEAD_WAIT_MS``, behind
  a long write transaction, is inserted *pending* instead and linked by the
  process's next batch that gets the head). When
  ``record`` returns, the entry is committed: the response is sent only
  after that, so no granted read can be answered without its entry (the
  test ``test_group_commit.py`` checks it from another connection as each
  response arrives).

Why a per-worker batch that waits for the head: N reads in flight in a
worker cost one transaction and one commit instead of N (on 4 December,
without it, the append was over half of an audited read's cost under load:
bench/README), and while one worker's batch holds the head the next
requests of the others gather in their own batches. Until 5 December a
batch that found the head taken at all was inserted *pending* and linked
later by the holder: twice the writes for those entries (an insert, then an
update that links it) and four more statements a batch, for no gain once
each worker batches (bench/README, "5 December": 15 % more audited reads a
second on PostgreSQL by waiting). Nothing lives only in memory: an entry is
queued while its own request waits for it, and a batch that fails fails
every request in it.

Pending entries (``seq`` NULL): those of a batch kept waiting (above),
rows an earlier release or a killed process left, linked by
``chain_pending`` (which ``verify_audit`` runs first), or rows someone
slipped into the table. A pending entry cannot be forged by someone who
writes to the database but lacks the audit key: it carries an HMAC
(``kind: pending``) over its content and a random nonce (kept in
``prev_hash`` until it is chained; ``hash`` is unique, so a copy of a
pending row is refused). The chainer checks it before linking, leaves a
forged one unlinked and logs it, and ``verify_audit`` names it. The
database lets an UPDATE through only to link a pending entry (its content
unchanged, audit migration 0006); DELETE stays refused.

On SQLite the processes sharing the file take turns for its write lock on
an ``flock`` beside it (``_sqlite_writers_queue``).
"""

from __future__ import annotations

import contextvars
import fcntl
import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from maillage.audit import checkpoints, context, keys
from maillage.audit.models import AuditChainHead, AuditEntry, Outcome
from maillage.db.statements import Insert, native, prepared_cursor, quoted_names
from maillage.lib.hashchain import (
    GENESIS,
    Checkpoint,
    Link,
    canonical_bytes,
    first_broken_link,
    first_checkpoint_break,
    head_is_authentic,
    link_mac,
    sign_head,
)

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.patients.models import Patient

logger = logging.getLogger(__name__)

# Pending entries linked per chaining transaction.
CHAIN_BATCH = 500


@dataclass(frozen=True)
class Event:
    """What to record; the actor and context are filled in by ``record``."""

    action: str
    outcome: str = Outcome.GRANTED
    patient: Patient | None = None
    basis: str = ""
    reason: str = ""
    detail: Mapping[str, Any] | None = None


def _actor_fields(actor: User | None) -> dict[str, Any]:
    if actor is None or not actor.is_authenticated:
        return {"actor": None, "actor_label": "", "actor_role": ""}
    return {"actor": actor, "actor_label": actor.display_name, "actor_role": actor.role}


def _ensure_head() -> None:
    """The head row comes with the migration; a test's flush may have emptied it.

    get_or_create reads the row a concurrent writer created first, in a
    savepoint of its own.
    """
    AuditChainHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS})


def _advance_head(count: int) -> tuple[int, str]:
    """Reserve ``count`` sequence numbers: the head's new (seq, hash); the UPDATE locks its row.

    One statement (UPDATE ... RETURNING, PostgreSQL and SQLite 3.35+) written
    once, as the chainer's are (see ``maillage.db.statements.quoted_names``).
    """
    sql = _head_statements(connection.vendor).advance
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, [count])
        row = cursor.fetchone()
        if row is None:
            _ensure_head()
            cursor.execute(sql, [count])
            row = cursor.fetchone()
    return int(row[0]), str(row[1])


@dataclass(frozen=True)
class _HeadStatements:
    advance: str
    move: str


@cache
def _head_statements(vendor: str) -> _HeadStatements:
    """The two statements on the head every batch runs, prepared on PostgreSQL."""
    table, pk, seq, hash_, key_id, mac = quoted_names(
        AuditChainHead, "id", "seq", "hash", "key_id", "mac"
    )
    sets = ", ".join(f"{column} = %s" for column in (seq, hash_, key_id, mac))
    return _HeadStatements(
        advance=native(
            f"UPDATE {table} SET {seq} = {seq} + %s WHERE {pk} = 1 RETURNING {seq}, {hash_}",  # noqa: S608
            connection,
        ),
        move=native(f"UPDATE {table} SET {sets} WHERE {pk} = 1", connection),  # noqa: S608
    )


# Every append inserts through it: its INSERT is written once (maillage.db.statements).
_INSERT_ENTRIES = Insert(AuditEntry)


class AuditWriteFailed(RuntimeError):
    """The batch this request's entries were in could not be written: nothing was answered."""


@dataclass
class _Slot:
    """One caller's entries in the process's group commit, and how their batch ended."""

    entries: list[AuditEntry]
    done: bool = False
    error: BaseException | None = None


class _GroupCommit:
    """The entries of this process's concurrent requests, written together.

    A caller outside any transaction queues its entries and waits. If no
    batch is being written, it leads: it takes everything queued (its own
    entries and those of the callers that arrived while the last batch was
    written), writes them in one transaction and wakes them. Each caller
    returns only once the batch that holds its entries has committed, so an
    entry is durable before its response is sent, as one append per request
    was; but N concurrent reads cost one transaction instead of N (the head
    row, locked once, and one commit to wait for), which is what bound the
    audited read's throughput (bench/README, "4 December, evening").

    No thread of its own: the leader is one of the waiting requests, so there
    is nothing to start, stop or lose with the process (what is queued
    belongs to requests still waiting for an answer). On SQLite it also keeps
    the process's threads out of SQLite's busy handler, which sleeps in steps
    of up to 100 ms: one writer per process at a time.
    """

    def __init__(self, write: Callable[[list[AuditEntry]], None]) -> None:
        self._write = write
        self._turn = threading.Condition()
        self._queued: list[_Slot] = []
        self._writing = False

    def commit(self, entries: list[AuditEntry]) -> None:
        """Return once ``entries`` are committed; AuditWriteFailed if their batch failed."""
        slot = _Slot(entries)
        with self._turn:
            self._queued.append(slot)
            while self._writing and not slot.done:
                self._turn.wait()
            if not slot.done:
                batch, self._queued, self._writing = self._queued, [], True
        if slot.done:
            if slot.error is not None:
                raise AuditWriteFailed("audit: the batch of this entry was not written") from (
                    slot.error
                )
            return
        error: BaseException | None = None
        try:
            self._write([e for queued in batch for e in queued.entries])
        except BaseException as failed:
            error = failed
            raise
        finally:
            with self._turn:
                for queued in batch:
                    queued.done, queued.error = True, error
                self._writing = False
                self._turn.notify_all()


def record_many(actor: User | None, events: list[Event]) -> list[AuditEntry]:
    """Append events, committed when this returns (or with the caller's transaction).

    Within a transaction they are chained at once. Outside, they join this
    process's group commit (``_GroupCommit``), whose batch is chained at once
    too, or inserted pending and chained by the chainer on PostgreSQL when
    another process holds the head (module docstring). Either way they keep
    their order.
    """
    if not events:
        return []
    watched = _watched.get()
    if watched is not None:
        watched.extend((actor, e) for e in events if e.outcome != Outcome.GRANTED)
    keyring = keys.keyring()
    now = timezone.now()
    # Built here: the actor and the request's context are this thread's.
    entries = [_new_entry(actor, event, keyring.current, now) for event in events]
    if connection.in_atomic_block:
        _append_chained(entries)
    else:
        _group.commit(entries)
    return entries


@contextmanager
def _sqlite_writers_queue() -> Iterator[None]:
    """The processes sharing one SQLite file take turns here for the write lock.

    Without it a process that finds the file locked sleeps in SQLite's busy
    handler, in steps of up to 100 ms, however soon the lock is let go; an
    ``flock`` on a file beside the database wakes the next process as soon
    as it is released (and is released by the kernel if its holder dies).
    Only between processes: their threads already queue in ``_GroupCommit``.
    A database in memory has no file and no other process.
    """
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        yield
        return
    with open(f"{name}.appends", "a+b") as turn:
        fcntl.flock(turn, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(turn, fcntl.LOCK_UN)


# How long a batch waits for the head on PostgreSQL before it is inserted
# pending instead. Another worker's batch holds the head a few milliseconds;
# a long write transaction (a FHIR transaction Bundle, an import) holds it
# until it commits, and the reads of the whole region would wait behind it.
HEAD_WAIT_MS = 100
# Set when this process inserted pending entries: its next batch that gets
# the head links them (verify_audit links those of a process that died).
_left_pending = threading.Event()


def _write_outside_transaction(entries: list[AuditEntry]) -> None:
    """One batch of the group commit, chained at once in a transaction of its own."""
    if connection.vendor == "sqlite":
        with _sqlite_writers_queue():
            _append_chained(entries)
        return
    try:
        _append_chained(entries, wait_ms=HEAD_WAIT_MS)
    except OperationalError as error:
        if not _lock_not_available(error):
            raise
        _append_pending(entries)
        _left_pending.set()
        return
    if _left_pending.is_set():
        _left_pending.clear()
        if not _chain_all({}):
            _left_pending.set()


def _lock_not_available(error: OperationalError) -> bool:
    from psycopg.errors import LockNotAvailable

    return isinstance(error.__cause__, LockNotAvailable)


def _append_pending(entries: list[AuditEntry]) -> None:
    """Insert the entries unchained (sealed with their own MAC), in a transaction taking no lock."""
    ring_keys = keys.keyring().keys
    for entry in entries:
        entry.prev_hash = secrets.token_hex(32)  # the nonce, until the entry is linked
        entry.hash = pending_mac(
            ring_keys[entry.key_id], entry.key_id, entry.prev_hash, entry.payload()
        )
    with transaction.atomic():
        _INSERT_ENTRIES.save(entries)


# One per process: its concurrent requests' entries, written together.
_group = _GroupCommit(_write_outside_transaction)


def _new_entry(actor: User | None, event: Event, key_id: str, at: Any) -> AuditEntry:
    """An entry not yet linked nor saved: the event, its actor and the request's context."""
    ctx = context.current()
    return AuditEntry(
        seq=None,
        at=at,
        patient=event.patient,
        action=event.action,
        outcome=event.outcome,
        basis=event.basis,
        reason=event.reason,
        channel=ctx.channel,
        ip=ctx.ip,
        detail=dict(event.detail or {}),
        key_id=key_id,
        **_actor_fields(actor),
    )


def _link(entries: list[AuditEntry], seq: int, previous: str, key: bytes) -> tuple[int, str]:
    """Give each entry the next number and its link to the one before; the last (seq, hash)."""
    for entry in entries:
        seq += 1
        entry.seq, entry.prev_hash = seq, previous
        entry.hash = link_mac(key, entry.key_id, previous, entry.payload())
        previous = entry.hash
    return seq, previous


def _append_chained(entries: list[AuditEntry], wait_ms: int | None = None) -> None:
    """Append entries in one transaction (the caller's, if any), chained under the head lock.

    With ``wait_ms`` (PostgreSQL, a transaction of its own), waiting longer
    than that for the head raises OperationalError and writes nothing.
    """
    keyring = keys.keyring()
    with transaction.atomic():
        if wait_ms is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{int(wait_ms)}ms'")
        last, previous = _advance_head(len(entries))
        seq = last - len(entries)
        for entry in entries:
            seq, previous = _link([entry], seq, previous, keyring.keys[entry.key_id])
        _INSERT_ENTRIES.save(entries)
        _move_head(seq, previous, *sign_head(keyring, seq, previous))
        # Only what commits is checkpointed; a failed write is logged, never
        # undoes the entries (the database may run ahead of its checkpoints).
        transaction.on_commit(partial(checkpoints.append, seq, previous), robust=True)


def record(actor: User | None, event: Event) -> AuditEntry:
    return record_many(actor, [event])[0]


# The refusals and failures appended inside ``atomic_keeping_refusals``.
_watched: contextvars.ContextVar[list[tuple[User | None, Event]] | None] = contextvars.ContextVar(
    "maillage_audit_watched", default=None
)


@contextmanager
def atomic_keeping_refusals() -> Iterator[None]:
    """A transaction whose refusals and failures are recorded even if it rolls back.

    Entries appended inside a transaction commit with it (module docstring),
    so a rollback would erase the refusal that caused it: a FHIR transaction
    whose second entry the policy refuses must undo the first entry, not
    the trace of the refusal. Such entries are appended again after the
    rollback, marked so; granted ones are not (what they granted was undone).
    """
    watched: list[tuple[User | None, Event]] = []
    token = _watched.set(watched)
    try:
        with transaction.atomic():
            yield
    except BaseException:
        _watched.reset(token)
        for actor, event in watched:
            record(actor, _after_rollback(event))
        raise
    _watched.reset(token)


def _after_rollback(event: Event) -> Event:
    """The event as it stands once its transaction is undone."""
    detail = {**(event.detail or {}), "transaction": "rolled_back"}
    patient = event.patient
    if patient is not None and not type(patient).objects.filter(pk=patient.pk).exists():
        # Created in the transaction, then undone: named, no longer a row to point at.
        detail["patient"] = str(patient.uuid)
        patient = None
    return replace(event, patient=patient, detail=detail)


def pending_mac(key: bytes, key_id: str, nonce: str, payload: Mapping[str, Any]) -> str:
    """A pending entry's seal: its content and nonce, under the key; no link yet."""
    fields = {"kind": "pending", "key_id": key_id, "nonce": nonce, "payload": payload}
    return hmac.new(key, canonical_bytes(fields), hashlib.sha256).hexdigest()


def _is_authentic_pending(entry: AuditEntry, ring_keys: Mapping[str, bytes]) -> bool:
    key = ring_keys.get(entry.key_id)
    if key is None or entry.seq is not None:
        return False
    expected = pending_mac(key, entry.key_id, entry.prev_hash, entry.payload())
    return hmac.compare_digest(expected.encode(), entry.hash.encode())


def _lock_head_or_skip() -> AuditChainHead | None:
    """The head, locked for this transaction; None if another chainer holds it.

    On SQLite the IMMEDIATE transaction already holds the database's write
    lock, so there is never anyone to skip.
    """
    head = _locked_head()
    if head is not None or _head_exists():
        return head
    _ensure_head()
    return _locked_head()


# The chainer's statements are written once, not built by the ORM on every
# append: compiling them was most of the audit's Python in a read (bench/README,
# "4 December, evening"). Names only come from the models (quoted_names);
# values are parameters.


def _locked_head() -> AuditChainHead | None:
    table, *columns = quoted_names(AuditChainHead, "id", "seq", "hash", "key_id", "mac")
    skip = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    sql = f"SELECT {', '.join(columns)} FROM {table} WHERE {columns[0]} = 1{skip}"  # noqa: S608
    return next(iter(AuditChainHead.objects.raw(sql)), None)


def _head_exists() -> bool:
    """Whether the head row is there (taken by another chainer, when it was skipped)."""
    table, pk = quoted_names(AuditChainHead, "id")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE {pk} = 1", [])  # noqa: S608 (names only)
        return cursor.fetchone() is not None


def _pending_select(columns: str, forged: set[int]) -> tuple[str, list[int]]:
    """SELECT ``columns`` of the pending entries but the forged ones, oldest first."""
    table, pk, seq = quoted_names(AuditEntry, "id", "seq")
    skipped = f" AND {pk} NOT IN ({', '.join(['%s'] * len(forged))})" if forged else ""
    sql = f"SELECT {columns} FROM {table} WHERE {seq} IS NULL{skipped} ORDER BY {pk}"  # noqa: S608
    return sql, sorted(forged)


def _pending_batch(forged: set[int]) -> list[AuditEntry]:
    """The oldest pending entries, at most CHAIN_BATCH (index audit_pending)."""
    sql, params = _pending_select("*", forged)
    return list(AuditEntry.objects.raw(f"{sql} LIMIT %s", [*params, CHAIN_BATCH]))


def _move_head(seq: int, previous: str, key_id: str, mac: str) -> None:
    with prepared_cursor(connection) as cursor:
        cursor.execute(_head_statements(connection.vendor).move, [seq, previous, key_id, mac])


def _chain_batch(forged: set[int]) -> dict[int, tuple[int, str, str]] | None:
    """Link one batch of pending entries; None if another chainer is at work."""
    keyring = keys.keyring()
    linked: dict[int, tuple[int, str, str]] = {}
    with transaction.atomic():
        head = _lock_head_or_skip()
        if head is None:
            return None
        pending = _pending_batch(forged)
        seq, previous = head.seq, head.hash
        chained = []
        for entry in pending:
            if not _is_authentic_pending(entry, keyring.keys):
                # Never link what the application did not write: verify_audit names it.
                logger.error("audit: pending entry id %s is not authentic; left unlinked", entry.pk)
                forged.add(entry.pk)
                continue
            seq, previous = _link([entry], seq, previous, keyring.keys[entry.key_id])
            chained.append(entry)
            linked[entry.pk] = (seq, entry.prev_hash, entry.hash)
        if not chained:
            return linked
        _write_links(chained)
        _move_head(seq, previous, *sign_head(keyring, seq, previous))
        transaction.on_commit(partial(checkpoints.append, seq, previous), robust=True)
    return linked


def _write_links(entries: list[AuditEntry]) -> None:
    """One parameterised UPDATE per entry, sent together (psycopg pipelines executemany).

    ``bulk_update`` builds one CASE expression per field over the whole batch:
    for a list page's fifty entries it cost more than the page's own queries.
    """
    table, seq, prev_hash, hash_, pk = quoted_names(AuditEntry, "seq", "prev_hash", "hash", "id")
    sql = (
        f"UPDATE {table} SET {seq} = %s, {prev_hash} = %s, "  # noqa: S608 (names only)
        f"{hash_} = %s WHERE {pk} = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(e.seq, e.prev_hash, e.hash, e.pk) for e in entries])


def chain_pending() -> dict[int, tuple[int, str, str]]:
    """Link every committed pending entry; id -> (seq, prev_hash, hash) of those linked here.

    If another chainer holds the head, return at once: it looks for pending
    entries again after it lets go, and so sees every entry committed before
    our attempt (ours included).
    """
    linked: dict[int, tuple[int, str, str]] = {}
    _chain_all(linked)
    return linked


def _chain_all(linked: dict[int, tuple[int, str, str]]) -> bool:
    """Link pending entries into ``linked``; False if another chainer holds the head.

    True once none is left but forged ones, which are never linked.
    """
    if connection.in_atomic_block:
        raise RuntimeError("chain_pending runs in transactions of its own")
    forged: set[int] = set()
    while True:
        batch = _chain_batch(forged)
        if batch is None:
            return False
        linked.update(batch)
        if not _pending_left(forged):
            return True


def _pending_left(forged: set[int]) -> bool:
    """Looked for after the head is let go: see ``chain_pending``."""
    sql, params = _pending_select("1", forged)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT 1", params)
        return cursor.fetchone() is not None


class Problem(StrEnum):
    """Why the trail does not verify, from the entry named in the report."""

    LINK = "link"  # a link does not hold: changed, inserted, re-chained or missing
    CHECKPOINT = "checkpoint"  # an outside checkpoint pins another link
    SHORT = "short"  # the trail stops before an outside checkpoint
    WITNESS = "witness"  # the witness's checkpoint pins another link
    WITNESS_SHORT = "witness_short"  # the trail stops before the witness's checkpoint
    HEAD = "head"  # the head is unsigned, badly signed or points elsewhere
    PENDING = "pending"  # an entry waiting to be linked was not written by the application


@dataclass(frozen=True)
class ChainReport:
    entries: int
    first_bad_seq: int | None = None
    problem: Problem | None = None
    bad_lines: list[checkpoints.BadLine] = field(default_factory=list)
    checkpoints: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS
    # Authentic entries committed but not linked yet (another chainer was at work).
    pending: int = 0

    @property
    def intact(self) -> bool:
        return self.first_bad_seq is None and not self.bad_lines

    # The name older callers used.
    @property
    def first_broken_seq(self) -> int | None:
        return self.first_bad_seq


def verify_chain(witness: Path | None = None) -> ChainReport:
    """Check every link, the head's signature, the checkpoints and a witness's file.

    The first bad entry is the lowest sequence number any check points at.
    Committed entries still pending (a process killed between its insert and
    the chaining) are linked first; one that is not authentic is a finding,
    named after the last linked entry (it has no number of its own).
    """
    if not connection.in_atomic_block:
        chain_pending()
    ring = keys.keyring()
    kept, bad_lines = checkpoints.read(checkpoints.checkpoint_file(), dict(ring.keys))
    witnessed: list[Checkpoint] = []
    if witness is not None:
        witnessed, bad_witness = checkpoints.read(witness, dict(ring.keys))
        bad_lines += bad_witness
    pinned = {c.seq for c in kept} | {c.seq for c in witnessed}

    count = 0
    last_seq, last_hash = 0, GENESIS
    hash_at: dict[int, str] = {}

    def links() -> Iterator[Link]:
        nonlocal count, last_seq, last_hash
        linked = AuditEntry.objects.filter(seq__isnull=False).order_by("seq")
        for entry in linked.iterator(chunk_size=2000):
            assert entry.seq is not None  # the filter above
            count += 1
            last_seq, last_hash = entry.seq, entry.hash
            if entry.seq in pinned:
                hash_at[entry.seq] = entry.hash
            yield Link(entry.seq, entry.prev_hash, entry.hash, entry.key_id, entry.payload())

    findings: list[tuple[int, Problem]] = []
    stored = links()
    broken = first_broken_link(stored, ring.keys)
    if broken is not None:
        findings.append((broken, Problem.LINK))
        for _ in stored:  # read on, so that the checkpoints see every stored link
            pass
    head = AuditChainHead.objects.filter(pk=1).first()
    head_ok = (
        head_is_authentic(ring.keys, head.seq, head.hash, head.key_id, head.mac)
        if head is not None
        else count == 0
    )
    # The head must be signed and name the last row: rows cut from the end
    # leave it pointing past them, unless it was moved too (then its
    # signature, or the checkpoints, give it away).
    # Either way, what follows the last entry it could vouch for is unvouched.
    head_at = (head.seq, head.hash) if head is not None else (0, GENESIS)
    if head_at != (last_seq, last_hash):
        findings.append((min(last_seq, head_at[0]) + 1, Problem.HEAD))
    elif not head_ok:
        findings.append((last_seq + 1, Problem.HEAD))
    for found, problem, short in (
        (first_checkpoint_break(kept, hash_at, last_seq), Problem.CHECKPOINT, Problem.SHORT),
        (
            first_checkpoint_break(witnessed, hash_at, last_seq),
            Problem.WITNESS,
            Problem.WITNESS_SHORT,
        ),
    ):
        if found is not None:
            findings.append((found, short if found > last_seq else problem))
    waiting = list(AuditEntry.objects.filter(seq__isnull=True).order_by("pk"))
    if any(not _is_authentic_pending(entry, ring.keys) for entry in waiting):
        findings.append((last_seq + 1, Problem.PENDING))
    # At the same entry, the more telling finding wins (Problem's order); the
    # head comes last, since a checkpoint or a link says more about what happened.
    order = [*Problem]
    first = min(findings, key=lambda f: (f[0], order.index(f[1])), default=None)
    return ChainReport(
        entries=count,
        first_bad_seq=first[0] if first else None,
        problem=first[1] if first else None,
        bad_lines=bad_lines,
        checkpoints=len(kept),
        last_seq=last_seq,
        last_hash=last_hash,
        pending=len(waiting),
    )


def witness_checkpoint() -> Checkpoint | None:
    """A signed checkpoint of the head, to hand to an outside witness; None if the trail
    does not verify (a broken trail is never signed)."""
    report = verify_chain()
    if not report.intact:
        return None
    return checkpoints.signed(report.last_seq, report.last_hash)
