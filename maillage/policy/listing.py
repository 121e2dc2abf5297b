"""A list that names patients (an agenda, a queue, a billing page): one read entry per patient.

The caller has decided which rows it may show (each module's
``shows_patient``); this writes what was shown: for each patient named, one
granted read entry listing the rows that named her, on the basis of the
relation that opened the list (the patient's own rows: ``SELF``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from maillage.audit.actions import Event, record_many
from maillage.audit.models import Outcome
from maillage.policy.relations import Relation

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.patients.models import Patient


class NamesPatient(Protocol):
    """A row about one patient: an appointment, a tele-expertise request..."""

    uuid: uuid.UUID
    patient_id: int

    @property
    def patient(self) -> Patient: ...


def _own_patient_id(user: User) -> int | None:
    """The record of a patient's own account; a professional's lists never name him as SELF.

    Asked once per list, and only of a patient's account: reading each row's
    patient account (a column the lists do not load) cost one query a row.
    """
    from maillage.accounts.models import Role
    from maillage.patients.models import Patient

    if user.role != Role.PATIENT:
        return None
    return Patient.objects.filter(user_id=user.pk).values_list("pk", flat=True).first()


def audit_listed(user: User, rows: Sequence[NamesPatient], action: str, relation: Relation) -> None:
    """One ``action`` entry per patient the rows name, with the rows' ids in ``listed``."""
    seen: dict[int, list[str]] = {}
    patients: dict[int, Patient] = {}
    for row in rows:
        seen.setdefault(row.patient_id, []).append(str(row.uuid))
        patients[row.patient_id] = row.patient
    if not seen:
        return
    own = _own_patient_id(user)
    record_many(
        user,
        [
            Event(
                action=action,
                outcome=Outcome.GRANTED,
                patient=patients[pk],
                basis=Relation.SELF if pk == own else relation,
                detail={"listed": uuids},
            )
            for pk, uuids in seen.items()
        ],
    )
