"""Pieces shared by the teleconsultation tests: an act of the médecin traitant with her patient."""

from __future__ import annotations

import datetime as dt

import pytest

from maillage.policy.teleconsult import Visitor
from maillage.teleconsult import actions
from maillage.teleconsult.models import Consultation, InvitationChannel, ParticipantRole
from maillage.testing.agendas import _mail_and_sms, agendas  # noqa: F401 (fixtures)


@pytest.fixture
def private_files(settings, tmp_path) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "file-keys.json")
    settings.MAILLAGE_FILE_KEYS = ""


@pytest.fixture
def consultation(personas) -> Consultation:
    return actions.open_consultation(
        personas.treating_doctor.user,
        personas.patient,
        personas.treating_doctor,
        reason="Renouvellement",
    )


def doctor_of(personas) -> Visitor:
    return Visitor(user=personas.treating_doctor.user)


def patient_of(personas) -> Visitor:
    return Visitor(user=personas.patient_user)


def invite(personas, consultation: Consultation, role: str = ParticipantRole.FAMILY, **kw):
    seat, change = actions.seat_for_change(doctor_of(personas), consultation.uuid, doctor_only=True)
    return actions.invite(
        seat,
        change,
        name=kw.get("name", "Paul Girard"),
        role=role,
        channel=kw.get("channel", InvitationChannel.EMAIL),
        address=kw.get("address", "paul@example.org"),
    )


BIRTH = dt.date(1948, 3, 14)
