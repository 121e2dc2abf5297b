from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from maillage.acts import defaults
from maillage.acts.actions import ReportContent
from maillage.acts.models import Orientation


@pytest.fixture(autouse=True)
def private_files(settings: Any, tmp_path: Any) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "file-keys.json")
    settings.MAILLAGE_FILE_KEYS = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def call(personas: Any) -> Any:
    """The cardiologist's teleconsultation of the patient, under way for 20 minutes, one drop."""
    from maillage.teleconsult.actions import create_consultation
    from maillage.teleconsult.models import (
        Consultation,
        Incident,
        IncidentKind,
        Participant,
        Status,
    )

    defaults.ensure_now()
    doctor = personas.cardiologist
    consultation = create_consultation(
        personas.patient, doctor, by=doctor.user, reason="Palpitations depuis une semaine"
    )
    started = timezone.now() - dt.timedelta(minutes=20)
    Consultation.objects.filter(pk=consultation.pk).update(
        status=Status.IN_PROGRESS, started_at=started
    )
    Participant.objects.filter(consultation=consultation).update(admitted_at=started)
    Incident.objects.create(
        consultation=consultation,
        kind=IncidentKind.DROP,
        at=started + dt.timedelta(minutes=5),
        ended_at=started + dt.timedelta(minutes=5, seconds=4),
    )
    consultation.refresh_from_db()
    return consultation


CONTENT = ReportContent(
    reason="Palpitations depuis une semaine",
    observations="Pouls régulier à 72, pas de signe d'insuffisance cardiaque.",
    conclusion="Extrasystoles probables, bénignes.",
    prescriptions="Holter ECG des 24 heures.",
    follow_up="Revoir avec le Holter dans un mois.",
    orientation=Orientation.TREATING_DOCTOR,
)
