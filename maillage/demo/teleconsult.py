"""Teleconsultations in the demo: the demo patient's past one, and one open to try the room.

- The past act: with her médecin traitant three weeks ago, twenty
  minutes, her consent recorded, a short drop and its reconnection kept
  with the act, a line of chat; linked to the agenda's past remote
  appointment of hers when the agenda's demo made one. The acts slice's
  demo (``demo.acts``, run after this) writes its report.
- The open act: planned within the hour, so that ``patient`` and
  ``medecin.traitant`` can open the waiting room and the room side by side.

Idempotent: a patient who already has a past act (or an open one) gets no other.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext

from maillage.accounts.models import User
from maillage.directory.models import Professional
from maillage.patients.models import Patient
from maillage.teleconsult.actions import CONSENT_WORDING, create_consultation
from maillage.teleconsult.models import (
    OPEN_STATUSES,
    ChatMessage,
    Consent,
    Consultation,
    Incident,
    IncidentKind,
    Modality,
    Participant,
    ParticipantRole,
    Status,
)

DAYS_AGO = 21
MINUTES = 20
REASON = "Palpitations à l'effort depuis deux semaines."


def ensure_demo_teleconsultations(users: dict[str, User]) -> int:
    """The two acts of the demo patient; how many were made."""
    patient = Patient.objects.filter(user=users.get("patient")).first()
    account = users.get("medecin.traitant")
    doctor = Professional.objects.filter(user=account).first() if account else None
    if patient is None or doctor is None:
        return 0
    made = 0
    if not Consultation.objects.filter(patient=patient, started_at__isnull=False).exists():
        _past(patient, doctor)
        made += 1
    if not Consultation.objects.filter(patient=patient, status__in=OPEN_STATUSES).exists():
        create_consultation(
            patient,
            doctor,
            by=doctor.user,
            reason="Suivi de tension",
            planned_start=timezone.now() + dt.timedelta(minutes=30),
        )
        made += 1
    return made


def _past_appointment(patient: Patient, started: dt.datetime) -> object | None:
    """The agenda's past remote appointment of the patient, not yet taken by an act."""
    try:
        from maillage.agenda.models import Appointment
    except ImportError:
        return None
    return (
        Appointment.objects.filter(
            patient=patient, modality="remote", start__lt=timezone.now(), teleconsultation=None
        )
        .order_by("-start")
        .first()
    )


def _past(patient: Patient, doctor: Professional) -> Consultation:
    started = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(days=DAYS_AGO)
    started = started.replace(hour=10, minute=30)
    appointment = _past_appointment(patient, started)
    if appointment is not None:
        started = appointment.start  # type: ignore[attr-defined]
    ended = started + dt.timedelta(minutes=MINUTES)
    consultation = create_consultation(
        patient, doctor, by=doctor.user, reason=REASON, modality=Modality.VIDEO
    )
    Consultation.objects.filter(pk=consultation.pk).update(
        appointment=appointment,
        status=Status.FINISHED,
        planned_start=started,
        started_at=started,
        ended_at=ended,
        ended_by=doctor.user,
    )
    Participant.objects.filter(consultation=consultation).update(
        joined_at=started - dt.timedelta(minutes=3),
        admitted_at=started,
        admitted_by=doctor.user,
        left_at=ended,
        quality="good",
    )
    places = {p.role: p for p in Participant.objects.filter(consultation=consultation)}
    patient_place = places.get(ParticipantRole.PATIENT)
    if patient_place is not None:
        Consent.objects.create(
            consultation=consultation,
            given_by=patient_place,
            given_at=started - dt.timedelta(minutes=3),
            wording=gettext(CONSENT_WORDING),
        )
        ChatMessage.objects.create(
            consultation=consultation,
            participant=patient_place,
            at=started + dt.timedelta(minutes=2),
            text="Je vous entends bien, docteur.",
        )
    drop = started + dt.timedelta(minutes=7)
    Incident.objects.create(
        consultation=consultation,
        participant=patient_place,
        kind=IncidentKind.DROP,
        at=drop,
        ended_at=drop + dt.timedelta(seconds=4),
    )
    Incident.objects.create(
        consultation=consultation,
        participant=patient_place,
        kind=IncidentKind.RECONNECTION,
        at=drop + dt.timedelta(seconds=4),
        detail={"after_seconds": 4.0},
    )
    consultation.refresh_from_db()
    return consultation
