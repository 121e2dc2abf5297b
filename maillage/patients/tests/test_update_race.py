"""Concurrent identity changes: the row's lock decides, no change is lost or written twice."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.patients import actions
from maillage.patients.identity import IDENTITY_FIELDS, IdentityInput
from maillage.patients.models import Patient, PatientVersion

pytestmark = pytest.mark.django_db(transaction=True)


def _identity(patient: Patient, **changes: Any) -> IdentityInput:
    current = IdentityInput(**{name: getattr(patient, name) for name in IDENTITY_FIELDS})
    return dataclasses.replace(current, **changes)


def _at_once(calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls in threads released together; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = calls[index]()
        except BaseException as error:  # surfaced by the caller
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_of_four_changes_of_version_1_exactly_one_wins(personas):
    names = ["MARTIN", "DUBOIS", "LEROY", "MOREAU"]
    who = [personas.treating_doctor.user, personas.nurse.user, personas.coordinator] * 2

    def change(index: int) -> Callable[[], object]:
        def run() -> object:
            return actions.update_patient(
                who[index],
                personas.patient.uuid,
                lambda current: (_identity(current, used_name=names[index]), ()),
                expected_version=1,
            )

        return run

    results = _at_once([change(i) for i in range(4)])

    won = [r for r in results if isinstance(r, Patient)]
    lost = [r for r in results if isinstance(r, actions.StaleVersion)]
    assert (len(won), len(lost)) == (1, 3), results
    patient = Patient.objects.get(pk=personas.patient.pk)
    assert (patient.version, patient.used_name) == (2, won[0].used_name)
    assert PatientVersion.objects.filter(patient=patient).count() == 1
    entries = AuditEntry.objects.filter(action=Action.PATIENT_UPDATE)
    assert sorted(e.outcome for e in entries) == sorted([Outcome.GRANTED] + [Outcome.FAILED] * 3)


def test_changes_without_if_match_never_write_back_over_each_other(personas):
    def change(**fields: Any) -> Callable[[], object]:
        return lambda: actions.update_patient(
            personas.treating_doctor.user,
            personas.patient.uuid,
            lambda current: (_identity(current, **fields), ()),
        )

    results = _at_once(
        [change(used_name="MARTIN"), change(phone="0612345678"), change(email="m@example.org")]
    )

    assert all(isinstance(r, Patient) for r in results), results
    patient = Patient.objects.get(pk=personas.patient.pk)
    # Each change was applied to the version the one before it wrote.
    assert (patient.used_name, patient.phone, patient.email) == (
        "MARTIN",
        "0612345678",
        "m@example.org",
    )
    assert patient.version == 4
    assert sorted(PatientVersion.objects.values_list("version", flat=True)) == [1, 2, 3]
