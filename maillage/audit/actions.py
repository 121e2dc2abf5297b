"""Appending to the audit trail. The only writer of AuditEntry."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from maillage.audit import checkpoints, context, keys
from maillage.audit.models import AuditChainHead, AuditEntry, Outcome
from maillage.lib.hashchain import (
    GENESIS,
    Checkpoint,
    Link,
    first_broken_link,
    first_checkpoint_break,
    head_is_authentic,
    link_mac,
    sign_head,
)

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.patients.models import Patient


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


def _advance_head(count: int) -> AuditChainHead:
    """Reserve ``count`` sequence numbers; the UPDATE locks the head row."""
    if not AuditChainHead.objects.filter(pk=1).update(seq=F("seq") + count):
        try:
            with transaction.atomic():
                AuditChainHead.objects.create(pk=1, seq=0, hash=GENESIS)
        except IntegrityError:
            pass  # another writer created it first
        AuditChainHead.objects.filter(pk=1).update(seq=F("seq") + count)
    return AuditChainHead.objects.get(pk=1)


def record_many(actor: User | None, events: list[Event]) -> list[AuditEntry]:
    """Append events in one transaction, chained in order."""
    if not events:
        return []
    ctx = context.current()
    keyring = keys.keyring()
    key_id, key = keyring.current, keyring.keys[keyring.current]
    with transaction.atomic():
        head = _advance_head(len(events))
        seq = head.seq - len(events)
        previous = head.hash
        now = timezone.now()
        entries = []
        for event in events:
            seq += 1
            entry = AuditEntry(
                seq=seq,
                at=now,
                patient=event.patient,
                action=event.action,
                outcome=event.outcome,
                basis=event.basis,
                reason=event.reason,
                channel=ctx.channel,
                ip=ctx.ip,
                detail=dict(event.detail or {}),
                prev_hash=previous,
                key_id=key_id,
                **_actor_fields(actor),
            )
            entry.hash = link_mac(key, key_id, previous, entry.payload())
            previous = entry.hash
            entries.append(entry)
        AuditEntry.objects.bulk_create(entries)
        head_key_id, head_mac = sign_head(keyring, seq, previous)
        AuditChainHead.objects.filter(pk=1).update(hash=previous, key_id=head_key_id, mac=head_mac)
        # Only what commits is checkpointed; a failed write is logged, never
        # undoes the entries (the database may run ahead of its checkpoints).
        transaction.on_commit(partial(checkpoints.append, seq, previous), robust=True)
    return entries


def record(actor: User | None, event: Event) -> AuditEntry:
    return record_many(actor, [event])[0]


class Problem(StrEnum):
    """Why the trail does not verify, from the entry named in the report."""

    LINK = "link"  # a link does not hold: changed, inserted, re-chained or missing
    CHECKPOINT = "checkpoint"  # an outside checkpoint pins another link
    SHORT = "short"  # the trail stops before an outside checkpoint
    WITNESS = "witness"  # the witness's checkpoint pins another link
    WITNESS_SHORT = "witness_short"  # the trail stops before the witness's checkpoint
    HEAD = "head"  # the head is unsigned, badly signed or points elsewhere


@dataclass(frozen=True)
class ChainReport:
    entries: int
    first_bad_seq: int | None = None
    problem: Problem | None = None
    bad_lines: list[checkpoints.BadLine] = field(default_factory=list)
    checkpoints: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS

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
    """
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
        for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
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
    )


def witness_checkpoint() -> Checkpoint | None:
    """A signed checkpoint of the head, to hand to an outside witness; None if the trail
    does not verify (a broken trail is never signed)."""
    report = verify_chain()
    if not report.intact:
        return None
    return checkpoints.signed(report.last_seq, report.last_hash)
