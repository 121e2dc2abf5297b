"""Pending entries for group commit (``maillage.audit.actions``).

A read's entry may be inserted without a sequence number (``seq`` null) and
linked into the chain a moment later by the chainer. So the triggers of 0005
change in one way only: an UPDATE is let through when it links a pending
entry, that is when the old ``seq`` is null, the new one is not, and nothing
but ``seq``, ``prev_hash`` (the nonce, then the previous link) and ``hash``
(the pending seal, then the link) changes. Every other UPDATE, every DELETE
(outside the test suite's permit, as in 0005) and a TRUNCATE of a non-empty
trail stay refused. An entry once linked can never be unlinked or relinked.

On SQLite, altering ``seq`` rebuilds the table and drops its triggers:
``create_triggers`` puts them back, after the rebuild. The audit tests'
attacker restores triggers with this module's ``create_triggers``.
"""

from django.conf import settings
from django.db import migrations, models

# The entry's content: what linking may not change.
_CONTENT = (
    "id",
    "at",
    "actor_id",
    "actor_label",
    "actor_role",
    "patient_id",
    "action",
    "outcome",
    "basis",
    "reason",
    "channel",
    "ip",
    "detail",
    "key_id",
)

PERMIT_TABLE = "CREATE TABLE IF NOT EXISTS audit_flush_permit (granted boolean NOT NULL)"

_SQLITE_SAME = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _CONTENT)
SQLITE = [
    "DROP TRIGGER IF EXISTS audit_entry_no_update",
    "DROP TRIGGER IF EXISTS audit_entry_no_delete",
    f"""CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_auditentry
       WHEN NOT (OLD.seq IS NULL AND NEW.seq IS NOT NULL AND {_SQLITE_SAME})
       BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END""",
    """CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_auditentry
       WHEN NOT EXISTS (SELECT 1 FROM audit_flush_permit)
       BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END""",
]

_PG_OLD = ", ".join(f"OLD.{c}" for c in _CONTENT)
_PG_NEW = ", ".join(f"NEW.{c}" for c in _CONTENT)
POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit_flush_permit) THEN
           RETURN OLD;
         END IF;
         IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
            AND ROW({_PG_NEW}) IS NOT DISTINCT FROM ROW({_PG_OLD}) THEN
           RETURN NEW;
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


def create_triggers(schema_editor):
    schema_editor.execute(PERMIT_TABLE)
    statements = POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql)


def back_to_0005(apps, schema_editor):
    from importlib import import_module

    import_module("maillage.audit.migrations.0005_keyed_chain_refused_changes").create_triggers(
        schema_editor
    )


def forward(apps, schema_editor):
    create_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0005_keyed_chain_refused_changes"),
        ("patients", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="seq",
            field=models.PositiveBigIntegerField(null=True, unique=True),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(
                condition=models.Q(("seq__isnull", True)), fields=["id"], name="audit_pending"
            ),
        ),
        migrations.RunPython(forward, back_to_0005),
    ]
