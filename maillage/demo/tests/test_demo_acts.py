"""The demo patient's past teleconsultation has its report, filed, sent and recorded, once."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from maillage.acts.models import RecordedAct, Report, ReportStatus
from maillage.demo.tests import DEMO_ON_SQLITE
from maillage.messaging.models import Delivery
from maillage.patients.models import Patient
from maillage.records.models import Document, DocumentType
from maillage.teleconsult.models import ParticipantRole

pytestmark = DEMO_ON_SQLITE


@pytest.fixture(autouse=True)
def private_files(settings: Any, tmp_path: Any) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "keys.json")
    settings.MAILLAGE_FILE_KEYS = ""


@pytest.mark.django_db
def test_the_demo_patients_teleconsultation_has_its_report_once(capsys: Any) -> None:
    call_command("load_demo")
    call_command("load_demo")
    capsys.readouterr()

    patient = Patient.objects.get(user__username="patient")
    # Her teleconsultation at home (her assisted one has its own: test_demo_assisted).
    report = (
        Report.objects.filter(consultation__patient=patient)
        .exclude(consultation__participants__role=ParticipantRole.ASSISTANT)
        .get()
    )
    assert report.status == ReportStatus.CLOSED and report.problem == ""
    assert report.consultation.patient == patient
    assert report.document is not None and report.prescription is not None
    assert Document.objects.filter(
        patient=patient, type=DocumentType.TELECONSULTATION_REPORT, pk=report.document.pk
    ).exists()
    act = RecordedAct.objects.get(report=report)
    assert act.billing_code and act.incidents and act.participants
    if report.consultation.doctor == patient.treating_doctor:
        # Her médecin traitant, a GP in sector 1: TCG, the pathway itself.
        assert (act.billable, act.billing_code, act.rule) == (True, "TCG", "treating_doctor")
    treating = patient.treating_doctor
    assert treating is not None and treating.user is not None
    if report.consultation.doctor != treating:
        assert Delivery.objects.filter(
            user=treating.user, message__thread__patient=patient
        ).exists()
