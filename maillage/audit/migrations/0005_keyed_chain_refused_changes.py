"""Keyed links for existing entries; the database refuses UPDATE and DELETE.

1. Entries written before this migration were chained with a plain SHA-256.
   Their chain is checked as it was, then every entry and the head are signed
   with the current audit key (``audit.keys``): from here on, only a key
   holder can recompute a link. A broken old chain stops the migration rather
   than be blessed by a signature.

2. On SQLite and PostgreSQL, triggers refuse every UPDATE of an entry, and
   every DELETE (and, on PostgreSQL, a TRUNCATE of a non-empty trail) unless
   a row exists in ``audit_flush_permit``, a table that is not a Django model
   and that nothing in the application writes.

   Why a permit at all: between transactional tests (pytest-django's
   ``transactional_db``, used by the browser tests) Django empties every
   table, with DELETE on SQLite and with one TRUNCATE on PostgreSQL. Only
   ``maillage.audit.testing.empty_trail`` writes the permit, and only inside
   the one transaction that empties the trail just before that flush
   (an autouse fixture in ``maillage/conftest.py``): the row is deleted
   before the transaction commits, so no other connection ever sees it, and
   the flush then finds an empty trail (TRUNCATE of an empty trail is let
   through, since it removes nothing). In production the table stays empty
   and the refusal holds for the application, its admin, ``manage.py flush``
   and its bugs alike.

   What triggers cannot do: whoever owns the database can drop them, or write
   the permit. That is what the keyed chain and the checkpoints kept outside
   the database (``verify_audit``) are for; a deployment can also revoke the
   application role's rights on ``audit_flush_permit`` and its right to
   TRUNCATE and to alter tables.

   On SQLite, a migration that rebuilds ``audit_auditentry`` (Django does so
   for most field changes) drops its triggers with the old table: such a
   migration must run ``create_triggers`` again, as this one does after 0004.
"""

import hashlib
import hmac
import json

from django.db import migrations

PERMIT_TABLE = "CREATE TABLE IF NOT EXISTS audit_flush_permit (granted boolean NOT NULL)"

SQLITE = [
    "DROP TRIGGER IF EXISTS audit_entry_no_update",
    "DROP TRIGGER IF EXISTS audit_entry_no_delete",
    """CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_auditentry
       BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END""",
    """CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_auditentry
       WHEN NOT EXISTS (SELECT 1 FROM audit_flush_permit)
       BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_entry_no_delete",
    "DROP TRIGGER IF EXISTS audit_entry_no_update",
    # As 0002 left it.
    """CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_auditentry
       BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END""",
]

POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit_flush_permit) THEN
           RETURN OLD;
         END IF;
         RAISE EXCEPTION 'audit entries are append-only';
       END; $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE FUNCTION audit_trail_no_truncate() RETURNS trigger AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM audit_auditentry)
            AND NOT EXISTS (SELECT 1 FROM audit_flush_permit) THEN
           RAISE EXCEPTION 'audit entries are append-only';
         END IF;
         RETURN NULL;
       END; $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_auditentry",
    "DROP TRIGGER IF EXISTS audit_trail_no_truncate ON audit_auditentry",
    """CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
       FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()""",
    """CREATE TRIGGER audit_trail_no_truncate BEFORE TRUNCATE ON audit_auditentry
       FOR EACH STATEMENT EXECUTE FUNCTION audit_trail_no_truncate()""",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_trail_no_truncate ON audit_auditentry",
    "DROP FUNCTION IF EXISTS audit_trail_no_truncate()",
    # As 0002 left it.
    """CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit entries are append-only'; END; $$ LANGUAGE plpgsql""",
]


def create_triggers(schema_editor):
    schema_editor.execute(PERMIT_TABLE)
    statements = POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql)


def _canonical(payload):
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _payload(entry):
    """AuditEntry.payload() as of this migration (historical models have no methods)."""
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor_id,
        "actor_label": entry.actor_label,
        "actor_role": entry.actor_role,
        "patient": entry.patient_id,
        "action": entry.action,
        "outcome": entry.outcome,
        "basis": entry.basis,
        "reason": entry.reason,
        "channel": entry.channel,
        "ip": entry.ip,
        "detail": entry.detail,
    }


def _mac(key, fields):
    return hmac.new(key, _canonical(fields), hashlib.sha256).hexdigest()


def sign_existing_entries(apps, schema_editor):
    AuditEntry = apps.get_model("audit", "AuditEntry")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    if not AuditEntry.objects.filter(key_id="").exists():
        return  # a new database (no key is needed yet), or entries signed already
    # The key is read here, not at import, so that a new database never needs one.
    from maillage.audit.keys import keyring

    ring = keyring()
    key_id, key = ring.current, ring.keys[ring.current]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_append_only"
        )
    else:
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_entry_no_update")
    old_previous = new_previous = "0" * 64
    last_seq = 0
    for expected_seq, entry in enumerate(AuditEntry.objects.order_by("seq").iterator(), 1):
        payload = _payload(entry)
        old_link = hashlib.sha256(old_previous.encode() + _canonical(payload)).hexdigest()
        if entry.seq != expected_seq or entry.prev_hash != old_previous or entry.hash != old_link:
            raise RuntimeError(
                f"La chaîne d'audit est déjà rompue à l'entrée n° {expected_seq} : "
                "elle ne sera pas signée. Examinez-la avant de migrer."
            )
        new_link = _mac(
            key, {"kind": "entry", "key_id": key_id, "previous": new_previous, "payload": payload}
        )
        AuditEntry.objects.filter(pk=entry.pk).update(
            prev_hash=new_previous, hash=new_link, key_id=key_id
        )
        old_previous, new_previous, last_seq = old_link, new_link, entry.seq
    head_mac = _mac(key, {"kind": "head", "key_id": key_id, "seq": last_seq, "hash": new_previous})
    AuditChainHead.objects.update_or_create(
        pk=1, defaults={"seq": last_seq, "hash": new_previous, "key_id": key_id, "mac": head_mac}
    )
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_entry_append_only")


def forwards(apps, schema_editor):
    sign_existing_entries(apps, schema_editor)
    create_triggers(schema_editor)


def backwards(apps, schema_editor):
    statements = (
        POSTGRESQL_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    )
    for sql in statements:
        schema_editor.execute(sql)
    schema_editor.execute("DROP TABLE IF EXISTS audit_flush_permit")


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_chain_keys")]

    operations = [migrations.RunPython(forwards, backwards)]
