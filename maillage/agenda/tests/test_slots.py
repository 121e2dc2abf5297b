"""Slots from weekly rules: local time, idempotent generation, absences."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from maillage.agenda import actions, slots
from maillage.agenda.models import (
    Absence,
    Modality,
    Schedule,
    Slot,
    SlotModality,
    SlotStatus,
    WeeklyRule,
)

pytestmark = pytest.mark.django_db


def test_a_rule_makes_slots_in_local_time_and_generating_again_adds_nothing(
    personas: Any,
) -> None:
    schedule = Schedule.objects.create(
        professional=personas.treating_doctor, structure=personas.msp, horizon_days=14
    )
    rule = WeeklyRule.objects.create(
        schedule=schedule,
        weekday=2,
        start_time=dt.time(9),
        end_time=dt.time(12),
        slot_minutes=30,
        modality=SlotModality.REMOTE,
    )
    created = slots.generate(schedule)
    wednesdays = {s.start.date() for s in Slot.objects.filter(schedule=schedule)}
    assert created == 6 * len(wednesdays) and len(wednesdays) in (2, 3)
    first = Slot.objects.filter(schedule=schedule).order_by("start").first()
    assert first is not None
    local = timezone.localtime(first.start)
    assert (local.weekday(), local.time()) == (
        2,
        dt.time(9),
    ) or local.date() == timezone.localdate()
    assert {s.modality for s in Slot.objects.filter(schedule=schedule)} == {SlotModality.REMOTE}
    assert slots.generate(schedule) == 0
    assert slots.extend() == 0
    # A longer slot length: the free slots are made again, 4 of 45 minutes each morning.
    rule.slot_minutes = 45
    rule.save()
    slots.rule_changed(rule)
    lengths = {(s.end - s.start) for s in Slot.objects.filter(schedule=schedule)}
    assert lengths == {dt.timedelta(minutes=45)}


def test_an_absence_closes_free_slots_and_names_the_appointments_to_move(
    personas: Any, agendas: Any
) -> None:
    # A day's first slot, so that the three hours of absence hold free slots too at
    # whatever hour the suite runs (late in the afternoon the first free slot is the
    # day's last).
    booked_slot = next(
        s
        for s in Slot.objects.filter(schedule=agendas.gp, status=SlotStatus.FREE).order_by("start")
        if timezone.localtime(s.start).time() == dt.time(8)
    )
    appointment = actions.book(
        personas.patient_user,
        actions.Booking(booked_slot.uuid, personas.patient.uuid, Modality.REMOTE, "Bilan"),
    )
    start = booked_slot.start
    absence = Absence.objects.create(
        professional=personas.treating_doctor,
        start=start,
        end=start + dt.timedelta(hours=3),
        created_by=personas.coordinator,
    )
    to_move = slots.absence_added(absence)
    assert [a.pk for a in to_move] == [appointment.pk]
    inside = Slot.objects.filter(
        schedule=agendas.gp, start__gte=absence.start, end__lte=absence.end
    )
    assert set(inside.values_list("status", flat=True)) == {SlotStatus.BUSY, SlotStatus.UNAVAILABLE}
    absence.delete()
    assert slots.absence_removed(absence) == inside.count() - 1
    assert set(inside.values_list("status", flat=True)) == {SlotStatus.BUSY, SlotStatus.FREE}
