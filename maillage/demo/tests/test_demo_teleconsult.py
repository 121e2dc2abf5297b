"""The demo patient has a past teleconsultation (consent, incidents, its report) and one open."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from maillage.acts.models import Report
from maillage.demo.tests import DEMO_ON_SQLITE
from maillage.patients.models import Patient
from maillage.teleconsult.models import (
    OPEN_STATUSES,
    Consultation,
    IncidentKind,
    ParticipantRole,
    Status,
)

pytestmark = DEMO_ON_SQLITE


@pytest.fixture(autouse=True)
def private_files(settings: Any, tmp_path: Any) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "keys.json")
    settings.MAILLAGE_FILE_KEYS = ""


@pytest.mark.django_db
def test_the_demo_patient_has_a_past_act_and_an_open_one_once(capsys: Any) -> None:
    call_command("load_demo")
    call_command("load_demo")
    capsys.readouterr()

    patient = Patient.objects.get(user__username="patient")
    # Her teleconsultation at home (her assisted one in the van: test_demo_assisted).
    past = Consultation.objects.exclude(participants__role=ParticipantRole.ASSISTANT).get(
        patient=patient, status=Status.FINISHED
    )
    assert past.doctor == patient.treating_doctor
    assert past.consents.count() == 1
    kinds = list(past.incidents.values_list("kind", flat=True))
    assert kinds == [IncidentKind.DROP, IncidentKind.RECONNECTION]
    assert Report.objects.get(consultation__patient=patient, consultation=past)
    assert Consultation.objects.filter(patient=patient, status__in=OPEN_STATUSES).count() == 1
