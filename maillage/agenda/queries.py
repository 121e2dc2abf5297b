"""Reading agendas: the first free slots of the territory, a day or a week of an agenda.

No patient data here: slots and agendas are the directory's kind of data
(who receives when, where, how). What names a patient (a booked slot in a
day view) is shown only as ``policy.agenda`` allows, by the view.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import (
    Case,
    DateTimeField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
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
from maillage.directory.queries import works_at_q
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


@dataclass(frozen=True)
class _Candidate:
    """An agenda weighed by a search: only what choosing among them needs (no model row)."""

    pk: int
    notice_minutes: int
    place: GeoPoint | None


def _candidates(query: FreeSlotQuery) -> list[_Candidate]:
    schedules = Schedule.objects.filter(active=True, professional__active=True)
    if query.specialty:
        schedules = schedules.filter(professional__specialty__in=specialty_family(query.specialty))
    if query.modality == Modality.IN_PERSON:
        schedules = schedules.filter(structure__isnull=False)
    rows = schedules.values_list(
        "pk",
        "min_notice_minutes",
        "structure__commune__latitude",
        "structure__commune__longitude",
    )[:MAX_SCHEDULES]
    return [
        _Candidate(pk, notice, GeoPoint(lat, lon) if lat is not None and lon is not None else None)
        for pk, notice, lat, lon in rows
    ]


def _distances(origin: Commune | None, candidates: list[_Candidate]) -> dict[int, float]:
    """Each agenda's place from the commune, in one call of the distance provider."""
    placed = [(c.pk, c.place) for c in candidates if c.place is not None]
    if origin is None or not placed:
        return {}
    row = get_distance_provider().matrix_km([origin.point], [place for _pk, place in placed])[0]
    return {pk: float(d) for (pk, _place), d in zip(placed, row, strict=True)}


def _earliest(candidates: list[_Candidate], now: dt.datetime, *, for_patient: bool) -> Case | Value:
    """Each agenda's earliest bookable time, as SQL: now, plus its notice for a patient."""
    if not for_patient:
        return Value(now, output_field=DateTimeField())
    notices = sorted({c.notice_minutes for c in candidates})
    return Case(
        *(When(min_notice_minutes=n, then=Value(now + dt.timedelta(minutes=n))) for n in notices),
        default=Value(now),
        output_field=DateTimeField(),
    )


@dataclass(frozen=True)
class _Firsts:
    start: dt.datetime  # of the first free slot
    slot_ids: tuple[int, ...]


def _first_slots(
    candidates: list[_Candidate], modality: str, now: dt.datetime, *, for_patient: bool
) -> dict[int, _Firsts]:
    """The first free slots of each agenda (ids, and the first one's start), in one query.

    For each agenda, ``SLOTS_PER_AGENDA`` correlated subqueries (the k-th
    free slot: OFFSET k LIMIT 1) each walk the index (schedule, status,
    start) from the agenda's earliest time and stop at their slot: a few
    index steps an agenda, on SQLite and PostgreSQL alike. Ranking every
    free slot of the territory instead (a window over tens of thousands of
    rows) cost 300 to 500 ms at 200 agendas.
    """
    if not candidates:
        return {}
    free = Slot.objects.filter(
        schedule_id=OuterRef("pk"),
        status=SlotStatus.FREE,
        modality__in=offered_modalities(modality),
        start__gt=OuterRef("earliest"),
    ).order_by("start")
    picks = {f"pick{k}": Subquery(free.values("pk")[k : k + 1]) for k in range(SLOTS_PER_AGENDA)}
    rows = (
        Schedule.objects.filter(pk__in=[c.pk for c in candidates])
        .annotate(earliest=_earliest(candidates, now, for_patient=for_patient))
        .annotate(first=Subquery(free.values("start")[:1]), **picks)
        .filter(first__isnull=False)
        .order_by()
        .values_list("pk", "first", *picks)
    )
    return {pk: _Firsts(first, tuple(i for i in ids if i is not None)) for pk, first, *ids in rows}


def first_free(
    query: FreeSlotQuery,
    *,
    for_patient: bool,
    now: dt.datetime | None = None,
    limit: int | None = None,
) -> list[FreeHit]:
    """The agendas with free slots for the modality, nearest first in person, soonest remote.

    In person, the place matters: agendas whose structure is within the
    radius of the commune (the directory's distance provider), nearest
    first. Remote, anywhere: soonest first (the distance is shown when a
    commune is given, and an agenda in a pharmacy or a teleconsultation
    point is a place to go for an assisted teleconsultation). ``limit``:
    the hits a page shows. Three queries whatever the number of agendas:
    the agendas weighed (plain values), the first free slots of each (ids),
    the slots shown with their agendas; one call of the distance provider.
    Model rows are made for the hits shown only: making them for every
    agenda weighed was most of the time of a search.
    """
    now = now or timezone.now()
    candidates = _candidates(query)
    distances = _distances(query.origin, candidates)
    if query.modality == Modality.IN_PERSON and query.radius_km is not None:
        radius = query.radius_km
        candidates = [
            c for c in candidates if (d := distances.get(c.pk)) is not None and d <= radius
        ]
    firsts = _first_slots(candidates, query.modality, now, for_patient=for_patient)
    chosen = [c.pk for c in candidates if c.pk in firsts]
    if query.modality == Modality.IN_PERSON:
        chosen.sort(key=lambda pk: (pk not in distances, distances.get(pk, 0.0), firsts[pk].start))
    else:
        chosen.sort(key=lambda pk: firsts[pk].start)
    chosen = chosen[:limit] if limit is not None else chosen
    return _hits(chosen, firsts, distances)


def _hits(
    chosen: list[int], firsts: dict[int, _Firsts], distances: dict[int, float]
) -> list[FreeHit]:
    """The chosen agendas' slots, with their agendas, in one query; in the order chosen."""
    wanted = [i for pk in chosen for i in firsts[pk].slot_ids]
    slots: dict[int, list[Slot]] = {}
    schedules: dict[int, Schedule] = {}
    rows = (
        Slot.objects.filter(pk__in=wanted)
        .select_related("schedule__professional", "schedule__structure__commune")
        .order_by("schedule_id", "start")
    )
    for slot in rows:
        # One agenda object per agenda, shared by its slots.
        schedule = schedules.setdefault(slot.schedule_id, slot.schedule)
        slot.schedule = schedule
        slots.setdefault(slot.schedule_id, []).append(slot)
    return [
        FreeHit(schedules[pk], tuple(slots[pk]), distances.get(pk)) for pk in chosen if pk in slots
    ]


def manageable_schedules(user: User) -> QuerySet[Schedule]:
    """The agendas a user manages: a professional's own; every agenda of a secretary's house."""
    q = Q(professional__user_id=user.pk)
    if user.role == Role.COORDINATOR:
        q |= works_at_q(user, "structure_id")
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
