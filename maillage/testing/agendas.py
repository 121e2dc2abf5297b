"""Agendas for tests: the médecin traitant's and the cardiologist's, with free slots.

Shared by the agenda's tests and by those that book before they teleconsult
(maillage.teleconsult); the fixtures are imported by their conftest files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from maillage.agenda import slots
from maillage.agenda.models import Schedule, Slot, SlotModality, SlotStatus, WeeklyRule


@pytest.fixture(autouse=True)
def _mail_and_sms(settings: Any) -> None:
    """Mail and SMS kept in memory (reminders, notices, invitations)."""
    from maillage.agenda import sms

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MAILLAGE_SMS_BACKEND = "maillage.agenda.sms.ConsoleSmsBackend"
    sms.outbox.clear()


@dataclass
class Agendas:
    gp: Schedule  # the médecin traitant at the MSP of Sancoins
    cardiology: Schedule  # the cardiologist at the hospital

    def free(self, schedule: Schedule, modality: str = "") -> Slot:
        """The first free slot of a schedule (of a modality, when given)."""
        found = Slot.objects.filter(schedule=schedule, status=SlotStatus.FREE)
        if modality:
            found = found.filter(modality=modality)
        slot = found.order_by("start").first()
        assert slot is not None
        return slot


def every_day(schedule: Schedule, modality: str = SlotModality.BOTH) -> None:
    """A rule for each weekday, 8:00 to 18:00, 20-minute slots: tests never meet a weekend."""
    for weekday in range(7):
        WeeklyRule.objects.create(
            schedule=schedule,
            weekday=weekday,
            start_time=dt.time(8),
            end_time=dt.time(18),
            slot_minutes=20,
            modality=modality,
        )
    schedule.horizon_days = 3
    schedule.save()
    slots.generate(schedule)


@pytest.fixture
def agendas(personas: Any) -> Agendas:
    """Both agendas, and the addresses the reminders and notices go to."""
    for user, email in (
        (personas.treating_doctor.user, "claire.morel@example.org"),
        (personas.patient_user, "micheline.girard@example.org"),
        (personas.coordinator, "secretariat@example.org"),
    ):
        user.email = email
        user.save(update_fields=["email"])
    personas.patient.phone = "06 12 34 56 78"
    personas.patient.save(update_fields=["phone"])
    gp = Schedule.objects.create(
        professional=personas.treating_doctor, structure=personas.msp, min_notice_minutes=0
    )
    every_day(gp)
    cardiology = Schedule.objects.create(
        professional=personas.cardiologist, structure=personas.hospital, min_notice_minutes=0
    )
    every_day(cardiology, SlotModality.REMOTE)
    return Agendas(gp, cardiology)


def tomorrow_at(hour: int, minute: int = 0) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())
