"""Teleconsultation acts in the demo: the demo patient's past teleconsultation gets its report.

The report is written and closed through ``acts.actions`` as the doctor
would (the policy, the audit trail, the PDFs rendered, filed in the record,
sent to the médecin traitant's inbox, the act recorded with its billing).
If the room's demo has put a past teleconsultation in the patient's history,
that one gets the report; otherwise one is made here: with her médecin
traitant (who needs no new place in her care team, so the demo's other
logins keep the access they had), three weeks ago, twenty minutes, one
short drop. Idempotent: a
patient with a closed report is left alone.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from maillage.accounts.models import User
from maillage.acts import actions
from maillage.acts.defaults import ensure_now
from maillage.acts.models import Convention, Orientation, Report, ReportStatus, Sector
from maillage.directory.models import Professional
from maillage.directory.terminology import GENERAL_PRACTICE
from maillage.patients.models import Patient
from maillage.teleconsult.actions import create_consultation
from maillage.teleconsult.models import (
    Consultation,
    Incident,
    IncidentKind,
    Modality,
    Participant,
    Status,
)

REPORT = actions.ReportContent(
    reason="Palpitations à l'effort depuis deux semaines.",
    observations=(
        "Patiente à domicile, en vidéo. "
        "TA 138/82, pouls régulier à 74/min, SpO2 97 %. Pas d'oedème des membres inférieurs."
    ),
    conclusion="Extrasystoles auriculaires probables, bénignes. Pas de signe de gravité.",
    prescriptions="Holter ECG des 24 heures.\nBisoprolol 1,25 mg : 1 comprimé le matin, 1 mois.",
    follow_up="Revoir le résultat du Holter en téléconsultation dans un mois.",
    orientation=Orientation.TREATING_DOCTOR,
)
DAYS_AGO = 21
MINUTES = 20


def ensure_demo_reports(users: dict[str, User]) -> int:
    """Close the demo patient's past teleconsultation's report once; return how many were closed."""
    ensure_now()
    patient = Patient.objects.filter(user=users.get("patient")).first()
    if (
        patient is None
        or Report.objects.filter(consultation__patient=patient, status=ReportStatus.CLOSED).exists()
    ):
        return 0
    consultation = _past_consultation(patient, users)
    if consultation is None:
        return 0
    doctor = consultation.doctor.user
    if doctor is None:
        return 0
    _convention(consultation.doctor)
    actions.close(doctor, consultation.uuid, REPORT)
    return 1


def _convention(doctor: Professional) -> None:
    """The demo's general practitioners are in sector 1 (TCG); the directory does not say it."""
    if doctor.specialty in GENERAL_PRACTICE:
        Convention.objects.get_or_create(professional=doctor, defaults={"sector": Sector.ONE})


def _past_consultation(patient: Patient, users: dict[str, User]) -> Consultation | None:
    """The room's demo act if it made one that took place, else one made here."""
    past = (
        Consultation.objects.filter(patient=patient, started_at__isnull=False)
        .exclude(status=Status.CANCELLED)
        .filter(started_at__lt=timezone.now() - dt.timedelta(hours=1))
        .order_by("-started_at")
        .first()
    )
    if past is not None:
        return past
    account = users.get("medecin.traitant")
    doctor = Professional.objects.filter(user=account).first() if account else None
    if doctor is None:
        return None
    return _made_here(patient, doctor)


def _made_here(patient: Patient, doctor: Professional) -> Consultation:
    started = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(days=DAYS_AGO)
    started = started.replace(hour=10, minute=30)
    ended = started + dt.timedelta(minutes=MINUTES)
    consultation = create_consultation(
        patient, doctor, by=doctor.user, reason=REPORT.reason, modality=Modality.VIDEO
    )
    Consultation.objects.filter(pk=consultation.pk).update(
        status=Status.FINISHED,
        planned_start=started,
        started_at=started,
        ended_at=ended,
        ended_by=doctor.user,
    )
    Participant.objects.filter(consultation=consultation).update(
        joined_at=started, admitted_at=started, admitted_by=doctor.user, left_at=ended
    )
    drop = started + dt.timedelta(minutes=7)
    Incident.objects.create(
        consultation=consultation,
        kind=IncidentKind.DROP,
        at=drop,
        ended_at=drop + dt.timedelta(seconds=4),
        detail={"recovered": "ice_restart"},
    )
    consultation.refresh_from_db()
    return consultation
