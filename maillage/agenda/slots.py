"""Slots as rows, generated ahead from the weekly rules, kept in step with absences.

``generate`` makes the slots of a schedule from today to its horizon (local
time, Europe/Paris: a rule says 9:00 in winter and in summer alike). It is
idempotent: a slot is unique by (schedule, start), and existing rows are
left alone (``ignore_conflicts``), so the periodic job (``extend``, hourly)
and a rule's save may both run it. A slot inside an absence is generated
``busy-unavailable``. A changed rule drops its future slots nobody booked
(``rule_changed``) before generating again; an absence marks the free slots
it covers unavailable and names the appointments that now need moving.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from maillage.agenda.models import (
    HOLDING_STATUSES,
    Absence,
    Appointment,
    AppointmentStatus,
    Schedule,
    Slot,
    SlotStatus,
    WeeklyRule,
)


def _days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def _applies(rule: WeeklyRule, day: dt.date) -> bool:
    return (
        rule.weekday == day.weekday()
        and (rule.valid_from is None or rule.valid_from <= day)
        and (rule.valid_until is None or day <= rule.valid_until)
    )


def slot_times(rule: WeeklyRule, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    """The slots a rule makes on a day, in local wall-clock time, as aware datetimes."""
    zone = timezone.get_default_timezone()
    length = dt.timedelta(minutes=rule.slot_minutes)
    start = dt.datetime.combine(day, rule.start_time, tzinfo=zone)
    close = dt.datetime.combine(day, rule.end_time, tzinfo=zone)
    times = []
    while start + length <= close:
        times.append((start, start + length))
        start += length
    return times


def _in_absence(absences: list[Absence], start: dt.datetime, end: dt.datetime) -> bool:
    return any(a.start < end and start < a.end for a in absences)


def generate(schedule: Schedule, *, now: dt.datetime | None = None) -> int:
    """Create the missing slots of a schedule up to its horizon; how many were created."""
    if not schedule.active:
        return 0
    now = now or timezone.now()
    today = timezone.localdate(now)
    last = today + dt.timedelta(days=schedule.horizon_days)
    rules = list(schedule.rules.all())
    if not rules:
        return 0
    absences = list(
        Absence.objects.filter(
            professional_id=schedule.professional_id,
            end__gt=now,
            start__lt=now + dt.timedelta(days=schedule.horizon_days + 1),
        )
    )
    new: list[Slot] = []
    for day in _days(today, last):
        for rule in rules:
            if not _applies(rule, day):
                continue
            for start, end in slot_times(rule, day):
                if start <= now:
                    continue
                status = SlotStatus.UNAVAILABLE if _in_absence(absences, start, end) else None
                new.append(
                    Slot(
                        schedule=schedule,
                        rule=rule,
                        start=start,
                        end=end,
                        modality=rule.modality,
                        status=status or SlotStatus.FREE,
                    )
                )
    before = Slot.objects.filter(schedule=schedule).count()
    Slot.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    return Slot.objects.filter(schedule=schedule).count() - before


def _unheld() -> Q:
    """Slots no appointment holds."""
    return ~Q(
        Exists(Appointment.objects.filter(slot_id=OuterRef("pk"), status__in=HOLDING_STATUSES))
    )


def rule_changed(rule: WeeklyRule) -> int:
    """A rule was saved: its future slots nobody booked go, and the schedule is generated again."""
    with transaction.atomic():
        Slot.objects.filter(rule=rule, start__gt=timezone.now()).exclude(
            status=SlotStatus.BUSY
        ).filter(_unheld()).delete()
        return generate(rule.schedule)


def rule_removed(rule: WeeklyRule) -> None:
    """Before a rule is deleted: its future free slots go (booked ones stay, detached)."""
    Slot.objects.filter(rule=rule, start__gt=timezone.now()).exclude(status=SlotStatus.BUSY).filter(
        _unheld()
    ).delete()


def absence_added(absence: Absence) -> list[Appointment]:
    """Free slots inside the absence become unavailable; the booked appointments in it are named."""
    Slot.objects.filter(
        schedule__professional_id=absence.professional_id,
        status=SlotStatus.FREE,
        start__lt=absence.end,
        end__gt=absence.start,
    ).update(status=SlotStatus.UNAVAILABLE, updated_at=timezone.now())
    return list(
        Appointment.objects.filter(
            professional_id=absence.professional_id,
            status=AppointmentStatus.BOOKED,
            start__lt=absence.end,
            end__gt=absence.start,
        ).select_related("patient")
    )


def absence_removed(absence: Absence) -> int:
    """The unavailable slots of a removed absence are free again, unless another absence holds."""
    others = list(
        Absence.objects.filter(professional_id=absence.professional_id)
        .exclude(pk=absence.pk)
        .filter(start__lt=absence.end, end__gt=absence.start)
    )
    count = 0
    for slot in Slot.objects.filter(
        schedule__professional_id=absence.professional_id,
        status=SlotStatus.UNAVAILABLE,
        start__lt=absence.end,
        end__gt=absence.start,
        start__gt=timezone.now(),
    ).filter(_unheld()):
        if not _in_absence(others, slot.start, slot.end):
            count += Slot.objects.filter(pk=slot.pk, status=SlotStatus.UNAVAILABLE).update(
                status=SlotStatus.FREE, updated_at=timezone.now()
            )
    return count


def extend(due_at: dt.datetime | None = None) -> int:
    """The periodic job: every open schedule's slots up to its horizon (idempotent)."""
    return sum(generate(schedule) for schedule in Schedule.objects.filter(active=True))
