"""The database itself refuses to change or remove audit entries (migration 0005)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from maillage.audit.models import AuditEntry
from maillage.audit.testing import empty_trail
from maillage.audit.tests.attacker import fill, sql

pytestmark = pytest.mark.django_db(transaction=True)


def _refused(statement: str) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql(statement)


def test_update_and_delete_are_refused_in_sql_and_through_the_orm(personas) -> None:
    entries = fill(personas, 3)
    _refused("UPDATE audit_auditentry SET outcome = 'denied' WHERE seq = 2")
    _refused("DELETE FROM audit_auditentry WHERE seq = 3")
    _refused("DELETE FROM audit_auditentry")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entries[0].pk).update(reason="nothing to see")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.all().delete()
    assert list(AuditEntry.objects.values_list("seq", "outcome", "hash")) == [
        (e.seq, e.outcome, e.hash) for e in entries
    ]


def test_truncate_is_refused_on_postgresql(personas) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; its DELETE is refused above")
    fill(personas, 2)
    _refused("TRUNCATE audit_auditentry")
    _refused("TRUNCATE audit_auditentry, audit_auditchainhead")
    assert AuditEntry.objects.count() == 2


def test_the_flush_permit_lives_only_inside_the_transaction_that_empties_the_trail(
    personas,
) -> None:
    fill(personas, 2)
    empty_trail()
    assert AuditEntry.objects.count() == 0
    assert sql("SELECT COUNT(*) FROM audit_flush_permit") == [(0,)]
    fill(personas, 1)
    _refused("DELETE FROM audit_auditentry")
