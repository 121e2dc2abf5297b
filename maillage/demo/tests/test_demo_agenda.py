"""Agendas in the demo: free remote and in-person slots, a pharmacy point, her bookings."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from maillage.accounts.models import User
from maillage.agenda import queries
from maillage.agenda.models import (
    Appointment,
    AppointmentStatus,
    Modality,
    Schedule,
    Slot,
    SlotStatus,
)
from maillage.demo.tests import DEMO_ON_SQLITE
from maillage.directory.models import StructureKind
from maillage.policy.agenda import open_appointment

pytestmark = DEMO_ON_SQLITE


@pytest.fixture(autouse=True)
def private_files(settings: Any, tmp_path: Any) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "keys.json")
    settings.MAILLAGE_FILE_KEYS = ""


@pytest.mark.django_db
def test_the_demo_has_agendas_free_slots_and_the_patients_appointments(capsys: Any) -> None:
    call_command("load_demo")
    slots = Slot.objects.count()
    call_command("load_demo")
    capsys.readouterr()
    assert Slot.objects.count() == slots > 0
    users = {u.username: u for u in User.objects.filter(is_demo=True)}
    gp = Schedule.objects.get(professional__user=users["medecin.traitant"])
    assert gp.structure is not None and gp.structure.kind == StructureKind.MSP
    now = timezone.now()
    free = Slot.objects.filter(schedule=gp, status=SlotStatus.FREE, start__gt=now)
    assert free.filter(modality__in=("remote", "both")).exists()
    assert free.filter(modality__in=("in_person", "both")).exists()
    # The MSP's house: several agendas its secretary manages.
    assert queries.manageable_schedules(users["secretaire"]).count() >= 2
    pharmacy = Schedule.objects.get(structure__kind=StructureKind.PHARMACY)
    assert Slot.objects.filter(schedule=pharmacy, status=SlotStatus.FREE, start__gt=now).exists()
    # The patient: a remote appointment coming, one past and fulfilled; she opens both.
    mine = Appointment.objects.filter(patient__user=users["patient"])
    coming = mine.get(start__gt=now)
    past = mine.get(start__lt=now)
    assert (coming.modality, coming.status) == (Modality.REMOTE, AppointmentStatus.BOOKED)
    assert (past.modality, past.status) == (Modality.REMOTE, AppointmentStatus.FULFILLED)
    for appointment in (coming, past):
        assert open_appointment(users["patient"], appointment.uuid).appointment == appointment
    hits = queries.first_free(queries.FreeSlotQuery(modality="remote"), for_patient=True)
    assert hits
