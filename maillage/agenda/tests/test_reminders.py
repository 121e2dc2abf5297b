"""Reminders 24 h and 1 h before, by email and SMS, each sent once, each receiver decided."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from maillage.agenda import actions, reminders, sms
from maillage.agenda.models import Appointment, Modality, OutgoingSms, Slot, SlotStatus
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.records.actions import oppose_professional
from maillage.tasks import schedule
from maillage.tasks.models import OutgoingMail, WorkStatus

pytestmark = pytest.mark.django_db


def _booked_in(personas: Any, agendas: Any, within: dt.timedelta) -> Appointment:
    now = timezone.now()
    slot = (
        Slot.objects.filter(
            schedule=agendas.gp, status=SlotStatus.FREE, start__gt=now + dt.timedelta(hours=2)
        )
        .order_by("start")
        .first()
    )
    assert slot is not None
    appointment = actions.book(
        personas.coordinator,
        actions.Booking(slot.uuid, personas.patient.uuid, Modality.REMOTE, "Suivi diabète"),
    )
    # The clock, not the slot, is what this test is about: the appointment is moved in time.
    start = now + within
    Appointment.objects.filter(pk=appointment.pk).update(
        start=start, end=start + dt.timedelta(minutes=20)
    )
    return appointment


def test_the_24_hour_reminder_goes_once_by_mail_and_sms(
    personas: Any, agendas: Any, django_capture_on_commit_callbacks: Any
) -> None:
    appointment = _booked_in(personas, agendas, dt.timedelta(hours=20))
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.remind() == 1
        assert reminders.remind() == 0
    stored = Appointment.objects.get(pk=appointment.pk)
    assert stored.reminder_24h_sent_at is not None and stored.reminder_1h_sent_at is None
    mails = OutgoingMail.objects.filter(key__contains="reminder-24h")
    assert [m.user for m in mails] == [personas.patient_user]
    assert "Suivi" not in mails.get().body
    texts = OutgoingSms.objects.filter(key__contains="reminder-24h")
    assert texts.count() == 1 and texts.get().to_number == "+33612345678"
    assert texts.get().status == WorkStatus.DONE
    assert [to for to, body in sms.outbox if "rappel" in body] == ["+33612345678"]
    told = AuditEntry.objects.filter(
        action=Action.APPOINTMENT_RECEIVE, detail__appointment=str(appointment.uuid)
    )
    assert told.filter(actor=personas.patient_user, outcome=Outcome.GRANTED).count() >= 1


def test_within_the_hour_only_the_1_hour_reminder_goes_to_both_sides(
    personas: Any, agendas: Any, django_capture_on_commit_callbacks: Any
) -> None:
    appointment = _booked_in(personas, agendas, dt.timedelta(minutes=40))
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.remind() == 1
        assert reminders.remind() == 0
    stored = Appointment.objects.get(pk=appointment.pk)
    assert stored.reminder_1h_sent_at is not None and stored.reminder_24h_sent_at is not None
    assert not OutgoingMail.objects.filter(key__contains="reminder-24h").exists()
    receivers = set(
        OutgoingMail.objects.filter(key__contains="reminder-1h").values_list("user_id", flat=True)
    )
    assert receivers == {personas.patient_user.pk, personas.treating_doctor.user.pk}


def test_a_doctor_the_patient_opposed_is_not_told(personas: Any, agendas: Any) -> None:
    appointment = _booked_in(personas, agendas, dt.timedelta(minutes=40))
    oppose_professional(personas.patient_user, personas.patient, personas.treating_doctor)
    reminders.remind()
    assert not OutgoingMail.objects.filter(
        key__contains="reminder-1h", user=personas.treating_doctor.user
    ).exists()
    refused = AuditEntry.objects.get(
        action=Action.APPOINTMENT_RECEIVE,
        actor=personas.treating_doctor.user,
        detail__appointment=str(appointment.uuid),
        outcome=Outcome.DENIED,
    )
    assert refused.detail["rule"] == "opposed_professional"


def test_a_cancelled_appointment_is_not_reminded_and_the_scheduler_runs_the_job(
    personas: Any, agendas: Any
) -> None:
    appointment = _booked_in(personas, agendas, dt.timedelta(hours=5))
    actions.cancel(personas.patient_user, appointment.uuid)
    assert reminders.remind() == 0
    assert {"agenda_reminders", "agenda_slots"} <= {job.name for job in schedule.jobs()}
