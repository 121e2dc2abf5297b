"""Reading agendas: the first free slots of the territory, a day or a week of an agenda.

No patient data here: slots and agendas are the directory's kind of data
(who receives when, where, how). What names a patient (a booked slot in a
day view) is shown only as ``policy.agenda`` allows, by the view.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
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


def _distances(origin: Commune | None, schedules: list[Schedule]) -> dict[int, float | None]:
    """Each agenda's place from the commune, in one call of the distance provider."""
    placed = [s for s in schedules if s.structure is not None]
    if origin is None or not placed:
        return {}
    points = [
        GeoPoint(s.structure.commune.latitude, s.structure.commune.longitude)  # type: ignore[union-attr]
        for s in placed
    ]
    row = get_distance_provider().matrix_km([origin.point], points)[0]
    return {s.pk: float(d) for s, d in zip(placed, row, strict=True)}


def _first_slots(
    schedules: list[Schedule], modality: str, now: dt.datetime, *, for_patient: bool
) -> dict[int, list[Slot]]:
    """The first free slots of each agenda, in one query (a row number per agenda)."""
    by_notice: dict[int, list[int]] = {}
    for schedule in schedules:
        notice = schedule.min_notice_minutes if for_patient else 0
        by_notice.setdefault(notice, []).append(schedule.pk)
    after = Q(pk__in=[])
    for notice, ids in by_notice.items():
        after |= Q(schedule_id__in=ids, start__gt=now + dt.timedelta(minutes=notice))
    ranked = (
        Slot.objects.filter(
            after, status=SlotStatus.FREE, modality__in=offered_modalities(modality)
        )
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("schedule_id")], order_by=F("start").asc())
        )
        .filter(rank__lte=SLOTS_PER_AGENDA)
        .order_by("schedule_id", "start")
    )
    found: dict[int, list[Slot]] = {}
    for slot in ranked:
        found.setdefault(slot.schedule_id, []).append(slot)
    return found


def first_free(
    query: FreeSlotQuery, *, for_patient: bool, now: dt.datetime | None = None
) -> list[FreeHit]:
    """The agendas with free slots for the modality, nearest first in person, soonest remote.

    In person, the place matters: agendas whose structure is within the
    radius of the commune (the directory's distance provider), nearest
    first. Remote, anywhere: soonest first (the distance is shown when a
    commune is given, and an agenda in a pharmacy or a teleconsultation
    point is a place to go for an assisted teleconsultation). Three
    queries whatever the number of agendas: the agendas, their first free
    slots (ranked per agenda), and none for the distances (one provider call).
    """
    now = now or timezone.now()
    schedules = list(_candidates(query)[:MAX_SCHEDULES])
    distances = _distances(query.origin, schedules)
    if query.modality == Modality.IN_PERSON and query.radius_km is not None:
        radius = query.radius_km
        schedules = [s for s in schedules if (d := distances.get(s.pk)) is not None and d <= radius]
    firsts = _first_slots(schedules, query.modality, now, for_patient=for_patient)
    hits = [
        FreeHit(s, tuple(firsts[s.pk]), distances.get(s.pk)) for s in schedules if s.pk in firsts
    ]
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
