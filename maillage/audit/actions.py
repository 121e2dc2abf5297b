"""Appending to the audit trail. The only writer of AuditEntry."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from maillage.audit import context
from maillage.audit.models import AuditChainHead, AuditEntry, Outcome
from maillage.lib.hashchain import GENESIS, first_broken_link, link_hash

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
                **_actor_fields(actor),
            )
            entry.hash = link_hash(previous, entry.payload())
            previous = entry.hash
            entries.append(entry)
        AuditEntry.objects.bulk_create(entries)
        AuditChainHead.objects.filter(pk=1).update(hash=previous)
    return entries


def record(actor: User | None, event: Event) -> AuditEntry:
    return record_many(actor, [event])[0]


@dataclass(frozen=True)
class ChainReport:
    entries: int
    first_broken_seq: int | None
    head_matches: bool

    @property
    def intact(self) -> bool:
        return self.first_broken_seq is None and self.head_matches


def verify_chain() -> ChainReport:
    """Recompute every link; report the first one that does not hold."""
    count = 0
    last_seq, last_hash = 0, GENESIS

    def rows() -> Iterator[tuple[int, str, str, dict[str, object]]]:
        nonlocal count, last_seq, last_hash
        for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
            count += 1
            last_seq, last_hash = entry.seq, entry.hash
            yield entry.seq, entry.prev_hash, entry.hash, entry.payload()

    broken = first_broken_link(rows())
    head = AuditChainHead.objects.filter(pk=1).first()
    if broken is not None:
        return ChainReport(count, broken, head_matches=False)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    # Rows removed from the end leave the head pointing past the last entry.
    head_matches = (head_seq, head_hash) == (last_seq, last_hash)
    return ChainReport(count, None if head_matches else last_seq + 1, head_matches)
