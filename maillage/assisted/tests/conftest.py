"""An assisted act: the médecin traitant, her patient, the mobile unit's nurse admitted (TLL)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from maillage.assisted import actions as assisted
from maillage.directory.models import EquipmentKind, StructureEquipment
from maillage.policy import teleconsult as policy
from maillage.policy.teleconsult import Visitor
from maillage.teleconsult import actions
from maillage.teleconsult.models import Consultation, Participant
from maillage.teleconsult.tests.conftest import consultation  # noqa: F401 (fixture)

# A Blood Pressure Measurement (0x2A35) with the pulse: 120/80 mmHg, no mean (NaN), 72/min.
CUFF_BYTES = "04 7800 5000 FF07 4800"
# A PLX Spot-Check (0x2A5E): SpO2 97 %, pulse 68/min, no flags.
OXIMETER_BYTES = "00 6100 4400"


@dataclass
class AssistedAct:
    consultation: Consultation
    nurse: Participant
    doctor: Visitor
    nurse_visitor: Visitor


def add_nurse(personas, act: Consultation, code: str = "TLL") -> Participant:
    doctor = Visitor(user=personas.treating_doctor.user)
    seat, change = policy.seat_for_change(doctor, act.uuid, doctor_only=True)
    return assisted.add_assistant(seat, change, personas.nurse, code, personas.mobile_unit)


def admit(personas, act: Consultation, visitor: Visitor) -> None:
    """The participant arrives and the doctor admits her (as the room's socket would)."""
    place = actions.arrive(policy.take_seat(visitor, act.uuid))
    doctor = Visitor(user=personas.treating_doctor.user)
    actions.admit(*policy.seat_for_change(doctor, act.uuid, doctor_only=True), place.uuid)


@pytest.fixture
def act(personas, consultation) -> AssistedAct:  # noqa: F811
    for kind in (EquipmentKind.BP_MONITOR, EquipmentKind.OXIMETER, EquipmentKind.STETHOSCOPE):
        StructureEquipment.objects.create(structure=personas.mobile_unit, kind=kind)
    nurse = add_nurse(personas, consultation)
    visitor = Visitor(user=personas.nurse.user)
    actions.give_consent(*policy.seat_for_change(visitor, consultation.uuid))
    admit(personas, consultation, visitor)
    return AssistedAct(consultation, nurse, Visitor(user=personas.treating_doctor.user), visitor)
