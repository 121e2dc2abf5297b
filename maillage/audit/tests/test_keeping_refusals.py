"""atomic_keeping_refusals: a rolled-back transaction keeps the trace of its refusals."""

from __future__ import annotations

import json

import pytest

from maillage.audit import checkpoints
from maillage.audit.actions import Event, atomic_keeping_refusals, record, verify_chain
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.patients.models import Patient
from maillage.testing import factories as f

# Real commits and rollbacks, and the checkpoints written after each commit.
pytestmark = pytest.mark.django_db(transaction=True)


class Undone(Exception):
    pass


def test_refusals_and_failures_outlive_the_rollback_and_grants_do_not(personas) -> None:
    doctor = personas.treating_doctor.user
    with pytest.raises(Undone), atomic_keeping_refusals():
        record(doctor, Event(action=Action.DOCUMENT_CREATE, patient=personas.patient))
        record(
            doctor,
            Event(
                action=Action.PATIENT_READ,
                outcome=Outcome.DENIED,
                patient=personas.patient,
                detail={"rule": "relation"},
            ),
        )
        record(
            doctor,
            Event(
                action=Action.DOCUMENT_CREATE,
                outcome=Outcome.FAILED,
                patient=personas.patient,
                detail={"failure": "habilitation"},
            ),
        )
        raise Undone

    kept = list(AuditEntry.objects.order_by("seq"))
    assert [(e.action, e.outcome) for e in kept] == [
        (Action.PATIENT_READ, Outcome.DENIED),
        (Action.DOCUMENT_CREATE, Outcome.FAILED),
    ]
    assert all(e.detail["transaction"] == "rolled_back" for e in kept)
    assert kept[0].detail["rule"] == "relation"
    report = verify_chain()
    assert report.intact
    lines = checkpoints.checkpoint_file().read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines][-1] == report.last_seq


def test_a_refusal_on_a_patient_the_transaction_created_names_her_without_the_row(personas):
    nurse = personas.nurse.user
    with pytest.raises(Undone), atomic_keeping_refusals():
        created = f.patient("DURAND", "Paul")
        record(nurse, Event(action=Action.DOCUMENT_CREATE, outcome=Outcome.DENIED, patient=created))
        raise Undone

    assert not Patient.objects.filter(uuid=created.uuid).exists()
    kept = AuditEntry.objects.get()
    assert kept.patient is None
    assert kept.detail == {"transaction": "rolled_back", "patient": str(created.uuid)}
    assert verify_chain().intact


def test_a_committed_transaction_records_each_entry_once(personas) -> None:
    doctor = personas.treating_doctor.user
    with atomic_keeping_refusals():
        record(doctor, Event(action=Action.PATIENT_READ, outcome=Outcome.DENIED))

    assert AuditEntry.objects.count() == 1
    assert "transaction" not in AuditEntry.objects.get().detail
