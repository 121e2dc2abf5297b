"""Shared pieces: an assisted act of the médecin traitant, the nurse beside the patient."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from maillage.directory.terminology import Profession
from maillage.measurements.actions import NewReading, Quantity
from maillage.teleconsult import actions as teleconsult
from maillage.teleconsult.models import Consultation, Modality, Participant, ParticipantRole
from maillage.testing import factories as f


@pytest.fixture
def private_files(settings: Any, tmp_path: Any) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "file-keys.json")
    settings.MAILLAGE_FILE_KEYS = ""


def seat(consultation: Consultation, user: Any, role: str = ParticipantRole.ASSISTANT) -> None:
    """A place in the act for an account (set up directly: the invitation is not under test)."""
    Participant.objects.create(
        consultation=consultation, user=user, display_name=user.display_name, role=role
    )


@pytest.fixture
def act(personas: Any) -> Consultation:
    """The médecin traitant's assisted act with the patient; the nurse is beside her."""
    consultation = teleconsult.open_consultation(
        personas.treating_doctor.user,
        personas.patient,
        personas.treating_doctor,
        reason="Suivi tension",
        modality=Modality.ASSISTED,
    )
    seat(consultation, personas.nurse.user)
    return consultation


@pytest.fixture
def other_act(personas: Any) -> Consultation:
    """Another patient's act, in which the cardiologist and a pharmacist sit."""
    other = f.patient("MARTIN", "Louise", dt.date(1950, 6, 1), followed_by=(personas.hospital,))
    consultation = teleconsult.create_consultation(
        other, personas.cardiologist, by=personas.cardiologist.user, modality=Modality.ASSISTED
    )
    pharmacist = f.professional(
        "pharmacien",
        last_name="Petit",
        profession=Profession.PHARMACIST,
        structures=(personas.msp,),
    )
    seat(consultation, pharmacist.user)
    return consultation


def blood_pressure(systolic: str = "142", diastolic: str = "88", **kw: Any) -> NewReading:
    return NewReading(
        code="85354-9",
        effective_at=kw.pop("effective_at", timezone.now() - dt.timedelta(minutes=2)),
        components=(
            Quantity(Decimal(systolic), "mm[Hg]", "8480-6"),
            Quantity(Decimal(diastolic), "mm[Hg]", "8462-4"),
        ),
        **kw,
    )


def spo2(value: str = "96", **kw: Any) -> NewReading:
    return NewReading(
        code="2708-6",
        effective_at=kw.pop("effective_at", timezone.now() - dt.timedelta(minutes=1)),
        value=Decimal(value),
        unit=kw.pop("unit", "%"),
        **kw,
    )
