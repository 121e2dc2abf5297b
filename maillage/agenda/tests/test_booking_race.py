"""Several bookings of one slot at once (threads, real transactions): exactly one wins.

Runs on SQLite and on PostgreSQL (the suite runs twice): the conditional
UPDATE of the slot (free → busy) is the lock; the partial unique constraint
on the appointment's slot is the database's second guard.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from maillage.accounts.models import Role
from maillage.agenda import actions
from maillage.agenda.models import Appointment, Modality, Slot, SlotStatus
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.patients.tests.test_update_race import _at_once
from maillage.testing import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


def test_of_four_bookings_of_one_slot_at_once_exactly_one_wins(personas: Any, agendas: Any) -> None:
    slot = agendas.free(agendas.gp)
    # Four patients of the house, each booking the same slot for herself.
    bookers = [(personas.patient_user, personas.patient)]
    for n in range(3):
        user = f.user(f"patiente.{n}", Role.PATIENT)
        patient = f.patient(f"DUPONT{'ABC'[n]}", "Anne", user=user)
        bookers.append((user, patient))

    def book_as(user: Any, patient: Any) -> Callable[[], object]:
        return lambda: actions.book(
            user, actions.Booking(slot.uuid, patient.uuid, Modality.REMOTE, "Toux persistante")
        )

    results = _at_once([book_as(user, patient) for user, patient in bookers])

    won = [r for r in results if isinstance(r, Appointment)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert (len(won), len(lost)) == (1, 3), results
    assert all(isinstance(e, actions.BookingRefused) for e in lost), lost
    assert Appointment.objects.filter(slot=slot).count() == 1
    assert Slot.objects.get(pk=slot.pk).status == SlotStatus.BUSY
    entries = AuditEntry.objects.filter(action=Action.APPOINTMENT_BOOK)
    assert entries.filter(outcome=Outcome.GRANTED).count() == 1
    assert entries.filter(outcome=Outcome.FAILED).count() == 3
