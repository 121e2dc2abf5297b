"""Response times: each request's durations written when they happen, and their quartiles."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, override

from maillage.directory.terminology import Specialty
from maillage.expertise import actions, figures
from maillage.expertise.models import Priority, Recommendation, Request, Status
from maillage.front.tests.test_home import signed_in
from maillage.messaging.tests.conftest import fr
from maillage.testing import factories as f


def _ask(personas: Any, dermatology: Any) -> Request:
    gp = personas.treating_doctor.user
    draft = actions.save_draft(
        gp,
        personas.patient.uuid,
        actions.Ask(
            question="Naevus atypique ?",
            priority="soon",
            pool_uuid=dermatology.pool.uuid,
            consent=True,
        ),
    )
    return actions.submit(gp, draft.uuid)


def _earlier(request: Request, by: dt.timedelta, *names: str) -> None:
    Request.objects.filter(pk=request.pk).update(**{n: F(n) - by for n in names})


@pytest.fixture(autouse=True)
def no_cached_figures() -> None:
    cache.clear()


CLOCK = ("submitted_at", "due_at", "remind_half_at", "remind_ninety_at")


@pytest.mark.django_db
def test_the_durations_are_written_when_they_happen_and_exclude_the_hold(
    personas: Any, dermatology: Any
) -> None:
    request = _ask(personas, dermatology)
    request.refresh_from_db()
    assert request.asked_month == figures.month_of(timezone.now())
    assert request.answer_seconds is None and request.conclusion_seconds is None
    specialist = dermatology.first.user
    _earlier(request, dt.timedelta(hours=2), *CLOCK)
    actions.claim(specialist, request.uuid)
    actions.ask_for_more(specialist, request.uuid, "Une photo dermatoscopique ?")
    request.refresh_from_db()
    assert request.answer_seconds is not None
    assert abs(request.answer_seconds - 7200) < 60
    # Five hours on hold, then the reply, then the conclusion.
    _earlier(request, dt.timedelta(hours=5), *CLOCK, "hold_started_at", "first_answer_at")
    actions.reply(personas.treating_doctor.user, request.uuid, "Voici la photo.")
    actions.conclude(
        specialist, request.uuid, actions.Conclusion("Bénin, surveillance.", Recommendation.NONE)
    )
    request.refresh_from_db()
    assert request.status == Status.CONCLUDED
    assert request.held_seconds >= 5 * 3600
    # Seven hours since asked, five of them on hold: two hours to the conclusion.
    assert request.conclusion_seconds is not None
    assert abs(request.conclusion_seconds - 7200) < 60
    assert request.concluded_on_time is True
    assert abs(request.answer_seconds - 7200) < 60  # the first answer's time is not rewritten
    line = figures.timeline(request)
    assert line.asked == request.submitted_at and line.concluded == request.concluded_at
    assert line.claimed is not None and line.first_answer is not None
    assert line.on_hold >= dt.timedelta(hours=5) and line.on_time is True


@pytest.mark.django_db
def test_a_conclusion_after_the_due_time_is_late(personas: Any, dermatology: Any) -> None:
    request = _ask(personas, dermatology)
    _earlier(request, dt.timedelta(hours=80), *CLOCK)  # "soon" is 72 h
    actions.claim(dermatology.first.user, request.uuid)
    actions.conclude(
        dermatology.first.user, request.uuid, actions.Conclusion("Avis.", Recommendation.NONE)
    )
    request.refresh_from_db()
    assert request.concluded_on_time is False
    assert request.answer_seconds == request.conclusion_seconds
    assert abs((request.conclusion_seconds or 0) - 80 * 3600) < 60


def test_percentiles_interpolate_as_postgresql_percentile_cont() -> None:
    assert figures.percentiles([1, 2, 3, 4]) == [1.75, 2.5, 3.25]
    assert figures.percentiles([10]) == [10, 10, 10]
    assert figures.percentiles([]) == []
    assert figures.percentiles([0, 100], [0.9]) == [90]


def _requests(
    personas: Any, pool: Any, answers: list[int], *, specialty: str, month: dt.date
) -> None:
    """Requests answered in ``answers`` seconds, concluded in twice that, every other one late."""
    priority = Priority.objects.get(code="routine")
    gp = personas.treating_doctor
    Request.objects.bulk_create(
        Request(
            patient=personas.patient,
            requester=gp.user,
            requester_professional=gp,
            pool=pool,
            specialty=specialty,
            priority=priority,
            status=Status.CONCLUDED,
            submitted_at=timezone.now(),
            asked_month=month,
            answer_seconds=seconds,
            conclusion_seconds=2 * seconds,
            concluded_on_time=index % 2 == 0,
        )
        for index, seconds in enumerate(answers)
    )


@pytest.fixture
def spread(personas: Any, dermatology: Any) -> Any:
    """Twelve dermatology requests of the pool, three cardiology ones to a named specialist."""
    _requests(
        personas,
        dermatology.pool,
        [3600 * h for h in range(1, 13)],
        specialty=Specialty.DERMATOLOGY,
        month=dt.date(2026, 10, 1),
    )
    _requests(
        personas, None, [60, 120, 180], specialty=Specialty.CARDIOLOGY, month=dt.date(2026, 11, 1)
    )
    return dermatology


@pytest.mark.django_db
def test_the_analyst_sees_the_territory_with_small_counts_hidden(
    personas: Any, spread: Any
) -> None:
    scope = figures.scope_for(personas.analyst)
    assert scope == figures.Scope(pools=None, suppress=True)
    result = figures.figures_for(scope)
    assert result.overall.answer.count == 15 and not result.overall.answer.hidden
    by_specialty = {row.label: row for row in result.by_specialty}
    dermatology = by_specialty[str(Specialty.DERMATOLOGY.label)]
    assert dermatology.answer.count == 12
    assert dermatology.answer.median == 6.5 * 3600
    assert dermatology.answer.p25 == 3.75 * 3600 and dermatology.answer.p75 == 9.25 * 3600
    assert dermatology.conclusion.median == 13 * 3600
    assert dermatology.share_on_time == 50
    cardiology = by_specialty[str(Specialty.CARDIOLOGY.label)]
    assert cardiology.answer.hidden and cardiology.answer.median is None
    assert cardiology.share_on_time is None  # three requests: not shown
    by_pool = {row.label: row for row in result.by_pool}
    assert set(by_pool) == {spread.pool.name, gettext("Asked to a named specialist")}
    assert [row.label for row in result.by_month] == [
        date_format(dt.date(2026, 11, 1), "F Y"),
        date_format(dt.date(2026, 10, 1), "F Y"),
    ]


@pytest.mark.django_db
def test_a_coordinator_sees_the_pools_they_coordinate_only(personas: Any, spread: Any) -> None:
    other = f.pool("Cardiologie — Cher", Specialty.CARDIOLOGY, ((spread.second, True),))
    _requests(personas, other, [60] * 4, specialty=Specialty.CARDIOLOGY, month=dt.date(2026, 9, 1))
    scope = figures.scope_for(spread.coordinator.user)
    assert scope == figures.Scope(pools=(spread.pool.pk,), suppress=False)
    result = figures.figures_for(scope)
    assert [row.label for row in result.by_pool] == [spread.pool.name]
    assert result.overall.answer.count == 12
    # Not the analyst: a small count is shown to the pool's coordinator.
    small = figures.figures_for(figures.scope_for(spread.second.user))  # type: ignore[arg-type]
    assert small.overall.answer.count == 4 and small.overall.answer.median == 60
    # A member who does not coordinate, a doctor of no pool: no figures.
    assert figures.scope_for(spread.first.user) is None
    assert figures.scope_for(personas.treating_doctor.user) is None


@pytest.mark.django_db
def test_both_ways_of_computing_agree(personas: Any, spread: Any) -> None:
    scope = figures.Scope(pools=None, suppress=False)
    portable = figures._aggregates_in_python(scope)
    if connection.vendor != "postgresql":
        pytest.skip("percentile_cont is PostgreSQL's")
    database = figures._aggregates_in_database(scope)
    assert set(database) == set(portable)
    for key, (answered, answer_q, concluded, conclusion_q, on_time) in portable.items():
        other = database[key]
        assert (answered, concluded, on_time) == (other[0], other[2], other[4])
        assert list(answer_q or []) == pytest.approx(list(other[1] or []))
        assert list(conclusion_q or []) == pytest.approx(list(other[3] or []))


# --- The page ----------------------------------------------------------------------------


def _page(response: Any) -> str:
    return html.unescape(response.content.decode())


@pytest.mark.django_db
def test_the_page_shows_the_analyst_aggregates_with_small_counts_hidden(
    personas: Any, spread: Any
) -> None:
    response = signed_in(personas.analyst).get("/teleexpertise/chiffres/")
    assert response.status_code == 200
    page = _page(response)
    assert fr("Tele-expertise response times") in page
    assert spread.pool.name in page and fr("Asked to a named specialist") in page
    assert "6 h 30" in page  # the dermatology median of the first answer
    assert "&lt; 11" in response.content.decode()  # the three cardiology requests
    assert "50 %" in page
    # No patient, ever.
    assert personas.patient.display_name not in page
    home = _page(signed_in(personas.analyst).get("/"))
    assert "/teleexpertise/chiffres/" in home


@pytest.mark.django_db
def test_the_page_shows_a_coordinator_their_pools_and_refuses_others(
    personas: Any, spread: Any
) -> None:
    other = f.pool("Cardiologie — Indre", Specialty.CARDIOLOGY, ((personas.cardiologist, True),))
    _requests(personas, other, [60] * 4, specialty=Specialty.CARDIOLOGY, month=dt.date(2026, 9, 1))
    coordinator = signed_in(spread.coordinator.user)
    page = _page(coordinator.get("/teleexpertise/chiffres/"))
    assert spread.pool.name in page and other.name not in page
    assert "/teleexpertise/chiffres/" in _page(coordinator.get("/"))
    # The other pool's coordinator sees its four requests, not hidden for a coordinator.
    cardiology = _page(signed_in(personas.cardiologist.user).get("/teleexpertise/chiffres/"))
    assert other.name in cardiology and spread.pool.name not in cardiology
    assert "1 min" in cardiology
    # A pool member who does not coordinate, a GP, a patient: refused, and no link home.
    for user in (spread.first.user, personas.treating_doctor.user, personas.patient_user):
        client = signed_in(user)
        assert client.get("/teleexpertise/chiffres/").status_code == 403
        assert "/teleexpertise/chiffres/" not in _page(client.get("/"))


def test_durations_read_as_people_say_them() -> None:
    with override("fr"):
        assert figures.duration_text(None) == "—"
        assert figures.duration_text(44 * 60) == "44 min"
        assert figures.duration_text(3 * 3600 + 5 * 60) == "3 h 05"
        assert figures.duration_text(2 * 86400 + 4 * 3600) == "2 j 4 h"


@pytest.mark.django_db
def test_the_figures_kept_are_computed_again_after_a_new_request(
    personas: Any, spread: Any
) -> None:
    scope = figures.Scope(pools=None, suppress=False)
    first = figures.figures_for(scope)
    assert figures.figures_for(scope) == first  # kept: nothing moved
    _requests(
        personas, spread.pool, [7200], specialty=Specialty.DERMATOLOGY, month=dt.date(2026, 10, 1)
    )
    # The page may show the copy kept, said to be outdated, while the worker counts.
    kept = figures.figures_for(scope, kept_ok=True)
    assert kept == first and kept.outdated and kept.computed_at is not None
    again = figures.figures_for(scope)
    assert again.overall.answer.count == first.overall.answer.count + 1
    assert not again.outdated
    assert again == figures.figures_for(scope, fresh=True)


@pytest.mark.django_db(transaction=True)
def test_an_answer_outdates_the_kept_figures_and_the_minute_job_counts_it(
    personas: Any, dermatology: Any
) -> None:
    scope = figures.TERRITORY
    request = _ask(personas, dermatology)
    specialist = dermatology.first.user
    actions.claim(specialist, request.uuid)
    before = figures.figures_for(scope, kept_ok=True)
    assert before.overall.answer.count == 0
    actions.answer(specialist, request.uuid, "Photo nette, à revoir.")
    kept = figures.figures_for(scope, kept_ok=True)
    assert kept.outdated and kept.overall.answer.count == 0
    assert figures.refresh_kept() == 1
    assert figures.refresh_kept() == 0  # idempotent: nothing moved since
    now = figures.figures_for(scope, kept_ok=True)
    assert not now.outdated and now.overall.answer.count == 1
    # The page says when its figures were computed.
    page = _page(signed_in(personas.analyst).get("/teleexpertise/chiffres/"))
    assert "Chiffres calculés le" in page
