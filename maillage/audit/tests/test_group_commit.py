"""Group commit (``maillage.audit.actions``): no read answered without its entry, no forgery.

Reads outside a transaction are chained in per-worker batches before their
responses leave; on PostgreSQL a batch kept waiting behind a long write goes
pending. Pending entries are also made here directly to test the chainer
and verify_audit. These tests are
written as the two ways it could go wrong: a response that leaves before
its entry is committed (an unaudited read), and someone who writes to the
database slipping an entry in through the pending state.
Every test commits for real (transactional), as the server does.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import psycopg
import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from maillage.accounts.actions import create_api_token
from maillage.accounts.models import User
from maillage.audit import keys
from maillage.audit.actions import Event, Problem, chain_pending, record, verify_chain
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.audit.tests.attacker import sql, triggers_dropped
from maillage.patients.models import Patient
from maillage.testing import factories as f
from maillage.testing.browser import ThreadedServer

pytestmark = pytest.mark.django_db(transaction=True)

READERS = 4
READS_EACH = 6


@pytest.fixture
def server() -> Iterator[ThreadedServer]:
    running = ThreadedServer()
    running.start()
    yield running
    running.stop()


def _read(url: str, token: str) -> tuple[int, bytes]:
    """One FHIR read over real HTTP to the test server."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (our test server)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _entries(user_id: int, patient: Patient, outcome: str) -> int:
    """Counted on this thread's own connection: only committed rows are visible to it."""
    return AuditEntry.objects.filter(
        actor_id=user_id, patient=patient, action=Action.PATIENT_READ, outcome=outcome
    ).count()


def _left_pending(actor: User | None, event: Event) -> AuditEntry:
    """A pending entry, as a killed process or an earlier release leaves it."""
    from maillage.audit.actions import _append_pending, _new_entry

    entry = _new_entry(actor, event, keys.keyring().current, timezone.now())
    _append_pending([entry])
    return entry


def test_every_read_is_committed_before_its_response_arrives(personas, server) -> None:
    gp = personas.treating_doctor
    assert gp.user is not None
    patients = [
        f.patient(f"LECTEUR{n}", "Anne", treating_doctor=gp, followed_by=(personas.msp,))
        for n in range(READERS)
    ]
    token = create_api_token(gp.user, label="group commit")
    late: list[str] = []
    failures: list[BaseException] = []

    def reader(patient: Patient) -> None:
        try:
            for done in range(1, READS_EACH + 1):
                status, body = _read(f"{server.url}/fhir/r4/Patient/{patient.uuid}", token)
                assert status == 200
                assert json.loads(body)["id"] == str(patient.uuid)
                # The response is in: its entry must already be committed.
                if _entries(gp.user_id, patient, Outcome.GRANTED) != done:
                    late.append(f"{patient.birth_name} read {done}")
        except BaseException as error:  # surfaced below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reader, args=(p,)) for p in patients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert late == []
    report = verify_chain()
    assert report.intact
    assert report.pending == 0
    reads = AuditEntry.objects.filter(action=Action.PATIENT_READ, actor=gp.user)
    assert reads.count() == READERS * READS_EACH
    assert not reads.filter(seq__isnull=True).exists()


def test_a_refused_read_is_committed_before_its_404(personas, server) -> None:
    stranger = personas.stranger_coordinator
    token = create_api_token(stranger, label="group commit")
    status, _body = _read(f"{server.url}/fhir/r4/Patient/{personas.patient.uuid}", token)
    assert status == 404
    assert _entries(stranger.pk, personas.patient, Outcome.DENIED) == 1


def test_an_entry_left_pending_by_a_killed_process_is_linked_by_verify_audit(personas) -> None:
    record(personas.treating_doctor.user, Event(action=Action.PATIENT_READ))
    left = _left_pending(personas.treating_doctor.user, Event(action=Action.SEARCH))
    assert AuditEntry.objects.get(pk=left.pk).seq is None
    report = verify_chain()
    assert report.intact
    assert report.pending == 0
    assert AuditEntry.objects.get(pk=left.pk).seq == 2


def test_a_batch_kept_waiting_behind_a_long_write_goes_pending_and_is_linked_next(
    personas,
) -> None:
    # A write transaction holding the head for long (a Bundle, an import):
    # the reads' batch does not wait for it beyond HEAD_WAIT_MS. Its entry is
    # committed pending, and the process's next batch links it.
    if connection.vendor != "postgresql":
        pytest.skip("on SQLite the processes take turns for the file's one write lock")
    doctor = personas.treating_doctor.user
    record(doctor, Event(action=Action.PATIENT_READ))
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    with psycopg.connect(**params) as holder:
        holder.execute("SELECT 1 FROM audit_auditchainhead WHERE id = 1 FOR UPDATE")
        kept = record(doctor, Event(action=Action.SEARCH))
        # Committed before record returned: the holder's own connection sees it.
        seen = holder.execute("SELECT seq FROM audit_auditentry WHERE id = %s", [kept.pk])
        assert seen.fetchall() == [(None,)]
        holder.rollback()
    later = record(doctor, Event(action=Action.PATIENT_READ))
    assert AuditEntry.objects.get(pk=kept.pk).seq is not None
    assert AuditEntry.objects.get(pk=later.pk).seq is not None
    report = verify_chain()
    assert report.intact
    assert report.pending == 0


def _forged_pending(template: AuditEntry, mac: str) -> None:
    """A pending row in raw SQL, as someone with the database but not the key would."""
    sql(
        "INSERT INTO audit_auditentry (seq, at, actor_id, actor_label, actor_role, patient_id, "
        "action, outcome, basis, reason, channel, ip, detail, prev_hash, hash, key_id) "
        "VALUES (NULL, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            template.at,
            template.actor_id,
            template.actor_label,
            template.actor_role,
            template.patient_id,
            Action.BREAK_GLASS_REVIEW,
            Outcome.GRANTED,
            template.basis,
            "reviewed, all fine",
            template.channel,
            template.ip,
            json.dumps({}),
            "1" * 64,
            mac,
            template.key_id,
        ],
    )


def test_a_forged_pending_entry_is_never_linked_and_verify_audit_names_it(personas) -> None:
    first = record(personas.treating_doctor.user, Event(action=Action.PATIENT_READ))
    _forged_pending(first, "f" * 64)
    chain_pending()
    forged = AuditEntry.objects.get(action=Action.BREAK_GLASS_REVIEW)
    assert forged.seq is None  # the chainer would not seal it
    later = record(personas.treating_doctor.user, Event(action=Action.PATIENT_READ))
    assert later.seq == 2  # and it does not block the entries behind it
    report = verify_chain()
    assert not report.intact
    assert (report.first_bad_seq, report.problem) == (3, Problem.PENDING)


def test_a_pending_entry_cannot_be_copied_changed_or_unlinked(personas) -> None:
    linked = record(personas.treating_doctor.user, Event(action=Action.PATIENT_READ))
    pending = _left_pending(personas.treating_doctor.user, Event(action=Action.SEARCH))
    # A verbatim copy of a pending row (its seal included) hits the unique seal.
    with pytest.raises(DatabaseError), transaction.atomic():
        _forged_pending(pending, pending.hash)
    # Its content cannot change while it waits, nor can it be linked with other content.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql("UPDATE audit_auditentry SET outcome = 'denied' WHERE id = %s", [pending.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql(
            "UPDATE audit_auditentry SET seq = 9, reason = 'x' WHERE id = %s",
            [pending.pk],
        )
    # A linked entry can never go back to pending (to be relinked), nor be relinked.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql("UPDATE audit_auditentry SET seq = NULL WHERE id = %s", [linked.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql("UPDATE audit_auditentry SET hash = %s WHERE id = %s", ["0" * 64, linked.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql("DELETE FROM audit_auditentry WHERE id = %s", [pending.pk])
    assert verify_chain().intact


def test_with_the_triggers_dropped_a_rewritten_pending_entry_is_not_linked(personas) -> None:
    record(personas.treating_doctor.user, Event(action=Action.PATIENT_READ))
    pending = _left_pending(
        personas.treating_doctor.user,
        Event(action=Action.PATIENT_READ, patient=personas.patient, outcome=Outcome.DENIED),
    )
    with triggers_dropped():
        sql("UPDATE audit_auditentry SET outcome = 'granted' WHERE id = %s", [pending.pk])
    report = verify_chain()
    assert AuditEntry.objects.get(pk=pending.pk).seq is None
    assert (report.first_bad_seq, report.problem) == (2, Problem.PENDING)
