"""What someone who owns the database (but not the audit key) can do, in raw SQL."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module
from typing import Any

from django.db import connection

from maillage.audit.actions import Event, record
from maillage.audit.models import Action, AuditEntry
from maillage.lib.hashchain import canonical_bytes

_MIGRATION = "maillage.audit.migrations.0006_group_commit_pending"


def sql(statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return list(cursor.fetchall()) if cursor.description else []


def fill(personas: Any, n: int = 12) -> list[AuditEntry]:
    """Entries appended one request at a time, each committed (and checkpointed)."""
    return [
        record(
            personas.treating_doctor.user,
            Event(action=Action.PATIENT_READ, patient=personas.patient),
        )
        for _ in range(n)
    ]


def read_head() -> tuple[Any, ...]:
    return sql("SELECT seq, hash, key_id, mac FROM audit_auditchainhead WHERE id = 1")[0]


def put_head(seq: int, hash: str, key_id: str, mac: str) -> None:
    """The head is an ordinary row: no trigger guards it."""
    sql(
        "UPDATE audit_auditchainhead SET seq = %s, hash = %s, key_id = %s, mac = %s WHERE id = 1",
        [seq, hash, key_id, mac],
    )


def unkeyed_link(previous: str, payload: dict[str, object]) -> str:
    """The link as it was computed before it was keyed: anyone can recompute it."""
    return hashlib.sha256(previous.encode() + canonical_bytes(payload)).hexdigest()


@contextmanager
def triggers_dropped() -> Iterator[None]:
    """Drop the append-only triggers, as the database owner can, and put them back."""
    if connection.vendor == "postgresql":
        sql("DROP TRIGGER audit_entry_append_only ON audit_auditentry")
        sql("DROP TRIGGER audit_trail_no_truncate ON audit_auditentry")
    else:
        sql("DROP TRIGGER audit_entry_no_update")
        sql("DROP TRIGGER audit_entry_no_delete")
    try:
        yield
    finally:
        with connection.schema_editor() as editor:
            import_module(_MIGRATION).create_triggers(editor)


def insert(entry: AuditEntry) -> None:
    """INSERT is what the application does, so no trigger refuses it."""
    sql(
        "INSERT INTO audit_auditentry (seq, at, actor_id, actor_label, actor_role, patient_id, "
        "action, outcome, basis, reason, channel, ip, detail, prev_hash, hash, key_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            entry.seq,
            entry.at,
            entry.actor_id,
            entry.actor_label,
            entry.actor_role,
            entry.patient_id,
            entry.action,
            entry.outcome,
            entry.basis,
            entry.reason,
            entry.channel,
            entry.ip,
            json.dumps(entry.detail),
            entry.prev_hash,
            entry.hash,
            entry.key_id,
        ],
    )
