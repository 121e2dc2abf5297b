"""Indexes for the patient search on PostgreSQL (``maillage.patients.queries``).

Each word typed is looked for anywhere in the match key (birth name, first
given name, birth date) or in the used name: ``LIKE '%word%'``, which no
B-tree can serve. With pg_trgm (PostgreSQL's contrib, trusted since 13), a
GIN trigram index serves both, so a search reads the few patients whose name
matches and then checks the policy's filter on them, instead of scanning the
500 000 rows of a region. Without pg_trgm (an extension the server does not
ship, or a role not allowed to create it), the migration still passes and the
search scans, as before. SQLite: nothing (a scan of a small table).
"""

from django.db import migrations

TRIGRAM_INDEXES = [
    "CREATE INDEX IF NOT EXISTS patient_match_key_trgm ON patients_patient "
    "USING gin (match_key gin_trgm_ops)",
    # As Django writes icontains on PostgreSQL: UPPER(column::text) LIKE UPPER(%s).
    "CREATE INDEX IF NOT EXISTS patient_used_name_trgm ON patients_patient "
    "USING gin ((UPPER(used_name::text)) gin_trgm_ops)",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        present = cursor.fetchone() is not None
    if not present:
        try:
            with schema_editor.connection.cursor() as cursor:
                cursor.execute("SAVEPOINT maillage_trgm")
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                cursor.execute("RELEASE SAVEPOINT maillage_trgm")
        except Exception:  # not available or not allowed: the search scans
            with schema_editor.connection.cursor() as cursor:
                cursor.execute("ROLLBACK TO SAVEPOINT maillage_trgm")
            return
    for sql in TRIGRAM_INDEXES:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS patient_match_key_trgm")
    schema_editor.execute("DROP INDEX IF EXISTS patient_used_name_trgm")


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
