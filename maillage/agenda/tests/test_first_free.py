"""The first free slots of the territory: each agenda's slots, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from maillage.agenda import queries
from maillage.agenda.models import Modality, Schedule, Slot, SlotModality, SlotStatus
from maillage.agenda.tests.conftest import every_day
from maillage.testing import factories as f

pytestmark = pytest.mark.django_db


def _expected(schedule: Schedule, modality: str, after: dt.datetime) -> list[Slot]:
    """The agenda's first free slots, the slow and obvious way."""
    return list(
        Slot.objects.filter(
            schedule=schedule,
            status=SlotStatus.FREE,
            modality__in=(modality, SlotModality.BOTH),
            start__gt=after,
        ).order_by("start")[: queries.SLOTS_PER_AGENDA]
    )


def test_each_agenda_offers_its_first_free_slots_soonest_first(agendas: Any) -> None:
    now = timezone.now()
    # A taken slot and a closed one (an absence) are not offered.
    taken, closed = _expected(agendas.cardiology, Modality.REMOTE, now)[:2]
    Slot.objects.filter(pk=taken.pk).update(status=SlotStatus.BUSY)
    Slot.objects.filter(pk=closed.pk).update(status=SlotStatus.UNAVAILABLE)

    hits = queries.first_free(queries.FreeSlotQuery(modality="remote"), for_patient=True, now=now)

    assert {h.schedule for h in hits} == {agendas.gp, agendas.cardiology}
    for hit in hits:
        assert list(hit.slots) == _expected(hit.schedule, Modality.REMOTE, now)
        assert len(hit.slots) == queries.SLOTS_PER_AGENDA
    assert [h.first for h in hits] == sorted(h.first for h in hits)
    assert taken not in hits[0].slots + hits[1].slots
    assert closed not in hits[0].slots + hits[1].slots


def test_a_patient_books_no_sooner_than_each_agendas_notice(agendas: Any) -> None:
    now = timezone.now()
    Schedule.objects.filter(pk=agendas.gp.pk).update(min_notice_minutes=24 * 60)
    query = queries.FreeSlotQuery(modality="remote")

    for_patient = {h.schedule.pk: h for h in queries.first_free(query, for_patient=True, now=now)}
    for_staff = {h.schedule.pk: h for h in queries.first_free(query, for_patient=False, now=now)}

    gp, cardiology = agendas.gp.pk, agendas.cardiology.pk
    assert for_patient[gp].first > now + dt.timedelta(days=1)
    assert list(for_patient[gp].slots) == _expected(
        agendas.gp, Modality.REMOTE, now + dt.timedelta(days=1)
    )
    # The secretary is not held by the notice; the other agenda has none.
    assert list(for_staff[gp].slots) == _expected(agendas.gp, Modality.REMOTE, now)
    assert for_patient[cardiology].slots == for_staff[cardiology].slots


def test_in_person_keeps_the_agendas_within_the_radius_nearest_first(
    personas: Any, agendas: Any
) -> None:
    now = timezone.now()
    near = f.commune("18242")  # Sancoins, where the MSP is
    query = queries.FreeSlotQuery(modality="in_person", origin=near, radius_km=20)

    hits = queries.first_free(query, for_patient=True, now=now)

    # The cardiologist's agenda is remote only; the MSP is in the commune.
    assert [h.schedule for h in hits] == [agendas.gp]
    assert hits[0].distance_km is not None and hits[0].distance_km < 1
    assert list(hits[0].slots) == _expected(agendas.gp, Modality.IN_PERSON, now)
    assert all(s.modality in (SlotModality.IN_PERSON, SlotModality.BOTH) for s in hits[0].slots)


def test_the_number_of_queries_does_not_grow_with_the_agendas(personas: Any, agendas: Any) -> None:
    query = queries.FreeSlotQuery(modality="remote")
    with CaptureQueriesContext(connection) as two:
        assert len(queries.first_free(query, for_patient=True)) == 2
    for n in range(5):
        doctor = f.professional(None, last_name=f"Medecin{n}", structures=(personas.msp,))
        schedule = Schedule.objects.create(
            professional=doctor, structure=personas.msp, min_notice_minutes=15 * n
        )
        every_day(schedule)
    with CaptureQueriesContext(connection) as seven:
        assert len(queries.first_free(query, for_patient=True)) == 7
    assert len(seven.captured_queries) == len(two.captured_queries) == 3


def test_a_limit_keeps_the_soonest_and_makes_only_their_rows(agendas: Any) -> None:
    now = timezone.now()
    first = _expected(agendas.cardiology, Modality.REMOTE, now)[0]
    Slot.objects.filter(schedule=agendas.gp, start__lte=first.start).update(status=SlotStatus.BUSY)
    query = queries.FreeSlotQuery(modality="remote")

    hits = queries.first_free(query, for_patient=True, now=now, limit=1)

    assert [h.schedule for h in hits] == [agendas.cardiology]
    assert hits[0].first == first.start
    assert queries.first_free(query, for_patient=True, now=now, limit=0) == []
