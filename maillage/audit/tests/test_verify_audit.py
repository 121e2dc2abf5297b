"""The audit trail is append-only and verify_audit finds any tampering."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction

from maillage.audit.actions import Event, record, verify_chain
from maillage.audit.models import Action, AuditEntry


def _fill(personas, n: int = 6) -> list[AuditEntry]:
    return [
        record(
            personas.treating_doctor.user,
            Event(action=Action.PATIENT_READ, patient=personas.patient),
        )
        for _ in range(n)
    ]


@contextmanager
def triggers_off() -> Iterator[None]:
    """What someone with the database owner's rights could do."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The test's transaction holds deferred foreign-key checks; run them first.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_append_only")
        else:
            cursor.execute("DROP TRIGGER audit_entry_no_update")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(
                    "ALTER TABLE audit_auditentry ENABLE TRIGGER audit_entry_append_only"
                )
            else:
                for sql in import_module("maillage.audit.migrations.0002_append_only").SQLITE:
                    cursor.execute(sql)


@pytest.mark.django_db
def test_it_reports_an_intact_chain(personas, capsys) -> None:
    _fill(personas)
    call_command("verify_audit")
    assert "Chaîne d'audit intacte" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_database_refuses_to_change_an_entry(personas) -> None:
    entry = _fill(personas, 2)[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(outcome="denied")
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).delete()


@pytest.mark.django_db
def test_it_finds_a_tampered_row(personas) -> None:
    entries = _fill(personas)
    with triggers_off():
        AuditEntry.objects.filter(pk=entries[3].pk).update(outcome="denied")
    with pytest.raises(CommandError, match=f"rompue à l'entrée n° {entries[3].seq}"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_it_finds_a_removed_row(personas) -> None:
    entries = _fill(personas)
    with triggers_off():
        AuditEntry.objects.filter(pk=entries[2].pk).delete()
    assert verify_chain().first_broken_seq == entries[2].seq


@pytest.mark.django_db
def test_it_finds_rows_cut_from_the_end(personas) -> None:
    entries = _fill(personas)
    with triggers_off():
        AuditEntry.objects.filter(pk__in=[e.pk for e in entries[-2:]]).delete()
    report = verify_chain()
    assert not report.intact
    assert report.first_broken_seq == entries[-2].seq


@pytest.mark.django_db
def test_it_finds_a_rehashed_forgery(personas) -> None:
    """Recomputing a forged row's own hash does not help: the next link breaks."""
    from maillage.lib.hashchain import link_hash

    entries = _fill(personas)
    forged = AuditEntry.objects.get(pk=entries[1].pk)
    forged.outcome = "denied"
    with triggers_off():
        AuditEntry.objects.filter(pk=forged.pk).update(
            outcome="denied", hash=link_hash(forged.prev_hash, forged.payload())
        )
    assert verify_chain().first_broken_seq == entries[2].seq


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_chain(personas) -> None:
    user = personas.treating_doctor.user
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(15):
                record(user, Event(action=Action.PATIENT_READ, patient=personas.patient))
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = verify_chain()
    assert report.intact
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == list(
        range(1, report.entries + 1)
    )
    assert report.entries >= 60
