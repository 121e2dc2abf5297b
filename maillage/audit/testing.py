"""For the test suite only: empty the trail before Django flushes the database.

Between transactional tests Django empties every table (DELETE on SQLite,
TRUNCATE on PostgreSQL), which the triggers of migration 0005 refuse on a
non-empty trail. This writes the permit those triggers honour, empties the
trail and removes the permit, all in one transaction: no other connection
ever sees the permit. Nothing outside ``maillage/conftest.py`` calls it.
"""

from __future__ import annotations

from django.db import connections, transaction


def empty_trail(using: str = "default") -> None:
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("INSERT INTO audit_flush_permit (granted) VALUES (%s)", [True])
        cursor.execute("DELETE FROM audit_auditentry")
        cursor.execute("DELETE FROM audit_flush_permit")
