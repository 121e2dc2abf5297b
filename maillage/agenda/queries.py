"""Reading agendas: the first free slots of the territory, a day or a week of an agenda.

No patient data here: slots and agendas are the directory's kind of data
(who receives when, where, how). What names a patient (a booked slot in a
day view) is shown only as ``policy.agenda`` allows, by the view.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone

from maillage.accounts.models import Role
from maillage.agenda.models import (
    Appointment,
    AppointmentStatus,
    Modality,
    Schedule,
    Slot,
    SlotModality,
    SlotStatus,
)
from maillage.directory.models import Structure
from maillage.directory.queries import structures_of
from maillage.directory.terminology import specialty_family
from maillage.lib.geo import GeoPoint
from maillage.territory.distance import get_distance_provider

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.territory.models import Commune

# How many agendas a search weighs, and how many slots it offers for each.
MAX_SCHEDULES = 200
SLOTS_PER_AGENDA = 4


@dataclass(frozen=True)
class FreeSlotQuery:
    modality: str = Modality.REMOTE
    specialty: str = ""
    origin: Commune | None = None
    radius_km: float | None = None


@dataclass(frozen=True)
class FreeHit:
    schedule: Schedule
    slots: tuple[Slot, ...]
    distance_km: float | None

    @property
    def first(self) -> dt.datetime:
        return self.slots[0].start


def offered_modalities(modality: str) -> tuple[str, ...]:
    return (modality, SlotModality.BOTH)


def _candidates(query: FreeSlotQuery) -> QuerySet[Schedule]:
    schedules = Schedule.objects.filter(active=True, professional__active=True).select_related(
        "professional", "structure__commune"
    )
    if query.specialty:
        schedules = schedules.filter(professional__specialty__in=specialty_family(query.specialty))
    if query.modality == Modality.IN_PERSON:
        schedules = schedules.filter(structure__isnull=False)
    return schedules


def _distance(origin: Commune | None, structure: Structure | None) -> float | None:
    if origin is None or structure is None:
        return None
    point = GeoPoint(structure.commune.latitude, structure.commune.longitude)
    return float(get_distance_provider().matrix_km([origin.point], [point])[0][0])


def first_free(
    query: FreeSlotQuery, *, for_patient: bool, now: dt.datetime | None = None
) -> list[FreeHit]:
    """The agendas with free slots for the modality, nearest first in person, soonest remote.

    In person, the place matters: agendas whose structure is within the
    radius of the commune (the directory's distance provider), nearest
    first. Remote, anywhere: soonest first (the distance is shown when a
    commune is given, and an agenda in a pharmacy or a teleconsultation
    point is a place to go for an assisted teleconsultation).
    """
    now = now or timezone.now()
    hits: list[FreeHit] = []
    for schedule in _candidates(query)[:MAX_SCHEDULES]:
        distance = _distance(query.origin, schedule.structure)
        if (
            query.modality == Modality.IN_PERSON
            and query.radius_km is not None
            and (distance is None or distance > query.radius_km)
        ):
            continue
        notice = (
            dt.timedelta(minutes=schedule.min_notice_minutes) if for_patient else dt.timedelta()
        )
        found = tuple(
            Slot.objects.filter(
                schedule=schedule,
                status=SlotStatus.FREE,
                modality__in=offered_modalities(query.modality),
                start__gt=now + notice,
            ).order_by("start")[:SLOTS_PER_AGENDA]
        )
        if found:
            hits.append(FreeHit(schedule, found, distance))
    if query.modality == Modality.IN_PERSON:
        hits.sort(key=lambda h: (h.distance_km is None, h.distance_km or 0.0, h.first))
    else:
        hits.sort(key=lambda h: h.first)
    return hits


def manageable_schedules(user: User) -> QuerySet[Schedule]:
    """The agendas a user manages: a professional's own; every agenda of a secretary's house."""
    q = Q(professional__user_id=user.pk)
    if user.role == Role.COORDINATOR:
        q |= Q(structure_id__in=structures_of(user).values("pk"))
    return Schedule.objects.filter(q).select_related("professional", "structure")


def may_manage(user: User, schedule: Schedule) -> bool:
    return manageable_schedules(user).filter(pk=schedule.pk).exists()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_default_timezone()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)


def slots_between(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[Slot]:
    return list(Slot.objects.filter(schedule=schedule, start__gte=start, start__lt=end))


def appointments_between(
    schedule: Schedule, start: dt.datetime, end: dt.datetime
) -> list[Appointment]:
    """The appointments of the agenda's professional in the period (the agenda's, or elsewhere)."""
    return list(
        Appointment.objects.filter(
            professional_id=schedule.professional_id,
            start__gte=start,
            start__lt=end,
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("patient", "patient__user", "structure")
        .order_by("start")
    )


def upcoming_of_patient(patient_id: int) -> QuerySet[Appointment]:
    return (
        Appointment.objects.filter(patient_id=patient_id)
        .select_related("professional", "structure", "patient")
        .order_by("-start")
    )


def free_slots_to_move(appointment: Appointment, *, limit: int = 12) -> list[Slot]:
    """Free slots of the same professional accepting the appointment's modality."""
    return list(
        Slot.objects.filter(
            schedule__professional_id=appointment.professional_id,
            schedule__active=True,
            status=SlotStatus.FREE,
            modality__in=offered_modalities(appointment.modality),
            start__gt=timezone.now(),
        )
        .select_related("schedule__structure")
        .order_by("start")[:limit]
    )
