"""Response times of tele-expertise: each request's own, and quartiles by specialty, pool and month.

The times the issue asks for (asked, claimed, first answer, concluded, time
on hold) are the request's columns. The two durations the figures use are
written once when they happen (``actions``): seconds from asking to the
first answer, and from asking to the conclusion minus the time on hold; with
the month it was asked and whether it met its due time (moved by holds).
So the page aggregates a few numeric columns and never a date arithmetic
that each database spells differently: PostgreSQL computes the quartiles
itself (``percentile_cont`` over grouping sets, one scan), SQLite hands the
columns over and Python interpolates the same way.

Who sees what: a pool's coordinator the pools they coordinate; the
analyst (and the administrator) the whole territory, aggregates only, a
measure over fewer than ``SMALL_CELL`` requests hidden. No patient, no
request, is ever named here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timezone import localdate
from django.utils.translation import gettext as _

from maillage.accounts.models import Role, User
from maillage.directory.terminology import Specialty
from maillage.expertise.models import (
    FiguresClock,
    FiguresSnapshot,
    Pool,
    PoolMember,
    Request,
)
from maillage.front.indicators import SMALL_CELL

QUARTILES = (0.25, 0.5, 0.75)


# --- One request's times ------------------------------------------------------------


@dataclass(frozen=True)
class ResponseTimes:
    asked_month: dt.date | None
    answer_seconds: int | None
    conclusion_seconds: int | None
    concluded_on_time: bool | None


def month_of(moment: dt.datetime) -> dt.date:
    """The local month a moment falls in, as its first day."""
    return localdate(moment).replace(day=1)


def _seconds(delta: dt.timedelta) -> int:
    return max(0, int(delta.total_seconds()))


def response_times(
    submitted_at: dt.datetime | None,
    first_answer_at: dt.datetime | None,
    concluded_at: dt.datetime | None,
    held_seconds: int,
    due_at: dt.datetime | None,
) -> ResponseTimes:
    """The durations of a request from its times (a hold comes after a first answer, always:
    it starts with the specialist's question, so the first answer's time has none to remove)."""
    if submitted_at is None:
        return ResponseTimes(None, None, None, None)
    return ResponseTimes(
        asked_month=month_of(submitted_at),
        answer_seconds=_seconds(first_answer_at - submitted_at) if first_answer_at else None,
        conclusion_seconds=(
            max(0, _seconds(concluded_at - submitted_at) - held_seconds) if concluded_at else None
        ),
        concluded_on_time=(concluded_at <= due_at) if concluded_at and due_at else None,
    )


@dataclass(frozen=True)
class Timeline:
    """The moments of one request, as shown with it (the request page reads them)."""

    asked: dt.datetime | None
    claimed: dt.datetime | None
    first_answer: dt.datetime | None
    concluded: dt.datetime | None
    on_hold: dt.timedelta
    answer_seconds: int | None
    conclusion_seconds: int | None
    on_time: bool | None


def timeline(request: Request, now: dt.datetime | None = None) -> Timeline:
    """A request's times (a hold still running counts up to ``now``)."""
    held = request.held_seconds
    if request.hold_started_at is not None and now is not None:
        held += _seconds(now - request.hold_started_at)
    return Timeline(
        asked=request.submitted_at,
        claimed=request.claimed_at,
        first_answer=request.first_answer_at,
        concluded=request.concluded_at,
        on_hold=dt.timedelta(seconds=held),
        answer_seconds=request.answer_seconds,
        conclusion_seconds=request.conclusion_seconds,
        on_time=request.concluded_on_time,
    )


# --- Who sees which figures -----------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The requests a reader's figures cover: some pools, or the whole territory."""

    pools: tuple[int, ...] | None
    # Aggregates over few requests hidden (the analyst's reading).
    suppress: bool


def scope_for(user: User) -> Scope | None:
    """The analyst and the administrator: the territory; a coordinator: their pools; else none."""
    if user.role in {Role.ANALYST, Role.ADMIN}:
        return Scope(pools=None, suppress=True)
    pools = tuple(
        PoolMember.objects.filter(
            is_coordinator=True,
            professional__user_id=user.pk,
            professional__active=True,
            pool__active=True,
        )
        .order_by("pool_id")
        .values_list("pool_id", flat=True)
    )
    if not pools or not user.is_active:
        return None
    return Scope(pools=pools, suppress=False)


# --- The aggregates --------------------------------------------------------------------


def duration_text(seconds: float | None) -> str:
    """A duration as a reader says it: "45 min", "3 h 05", "2 d 4 h" (French: "2 j 4 h")."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(hours)d h %(minutes)02d") % {"hours": hours, "minutes": minutes}
    days, hours = divmod(hours, 24)
    return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}


@dataclass(frozen=True)
class Measure:
    """Quartiles of one duration over ``count`` requests (seconds); hidden when too few."""

    count: int
    p25: float | None
    median: float | None
    p75: float | None
    hidden: bool = False

    @property
    def median_text(self) -> str:
        return duration_text(self.median)

    @property
    def quartiles_text(self) -> str:
        if self.p25 is None or self.p75 is None:
            return "—"
        return _("%(low)s to %(high)s") % {
            "low": duration_text(self.p25),
            "high": duration_text(self.p75),
        }


@dataclass(frozen=True)
class Row:
    label: str
    answer: Measure
    conclusion: Measure
    on_time: int
    hidden_share: bool = False

    @property
    def share_on_time(self) -> float | None:
        """The share of concluded requests that met their due time, in percent."""
        if self.conclusion.count == 0 or self.hidden_share:
            return None
        return 100 * self.on_time / self.conclusion.count


@dataclass
class Figures:
    overall: Row
    by_specialty: list[Row] = field(default_factory=list)
    by_pool: list[Row] = field(default_factory=list)
    by_month: list[Row] = field(default_factory=list)
    small_cell: int = SMALL_CELL
    # When and from what they were computed: not part of what they say.
    computed_at: dt.datetime | None = field(default=None, compare=False)
    # Kept from before a change; the minute job is computing them again.
    outdated: bool = field(default=False, compare=False)


# An aggregate as computed: counts and quartiles of both durations, on-time count.
Raw = tuple[int, Sequence[float] | None, int, Sequence[float] | None, int]
DIMENSIONS = ("all", "specialty", "pool", "month")


def figures_for(scope: Scope, *, fresh: bool = False, kept_ok: bool = False) -> Figures:
    """The figures of a scope: the quartiles of the requests answered so far.

    Computing them sorts every duration of the scope (a second or more at
    300 000 requests); they change only when a request is first answered or
    concluded (the clock, ``changed``) or a request is added (the newest id).
    So each scope's figures are kept (``FiguresSnapshot``) with the clock
    and newest id they were computed from, read before computing: a change
    committed meanwhile makes the copy outdated, never wrong for good.

    An outdated copy is computed again here, unless ``kept_ok``: the page
    shows it with its time, and the minute job (``refresh_kept``) computes it
    again in the worker, so that no reader waits for the sort.
    """
    key = _scope_key(scope)
    current = _fingerprint()
    kept = None if fresh else FiguresSnapshot.objects.filter(scope_key=key).first()
    if kept is not None and (kept_ok or (kept.clock, kept.last_request_id) == current):
        outdated = (kept.clock, kept.last_request_id) != current
        raw = _raw_from_json(kept.raw)
        return _shape(raw, scope, computed_at=kept.computed_at, outdated=outdated)
    return _compute_and_keep(scope, key, current)


def _compute_and_keep(scope: Scope, key: str, fingerprint: tuple[int, int]) -> Figures:
    if connection.vendor == "postgresql":
        raw = _aggregates_in_database(scope)
    else:
        raw = _aggregates_in_python(scope)
    now = timezone.now()
    clock, last_id = fingerprint
    FiguresSnapshot.objects.update_or_create(
        scope_key=key,
        defaults={
            "clock": clock,
            "last_request_id": last_id,
            "computed_at": now,
            "raw": _raw_to_json(raw),
        },
    )
    return _shape(raw, scope, computed_at=now, outdated=False)


def refresh_kept(due_at: dt.datetime | None = None) -> int:
    """The minute job: compute again each kept scope that is outdated, and the territory's
    if it was never computed (the analyst's first visit then finds it); how many."""
    current = _fingerprint()
    refreshed = 0
    keys = set(FiguresSnapshot.objects.values_list("scope_key", flat=True))
    keys.add(_scope_key(TERRITORY))
    for key in sorted(keys):
        kept = FiguresSnapshot.objects.filter(scope_key=key).first()
        if kept is not None and (kept.clock, kept.last_request_id) == current:
            continue
        scope = _scope_of_key(key)
        if scope is None:
            continue
        _compute_and_keep(scope, key, current)
        refreshed += 1
    return refreshed


def changed() -> None:
    """A response time was written: kept figures are outdated once this commits.

    After the commit, in a statement of its own: the row is locked for an
    instant, not for the rest of the conclusion's transaction (which renders
    a PDF). A copy computed between the commit and the bump is computed once
    more for nothing, never kept wrong.
    """
    transaction.on_commit(_bump, robust=True)


def _bump() -> None:
    if not FiguresClock.objects.filter(pk=1).update(changes=F("changes") + 1):
        FiguresClock.objects.get_or_create(pk=1, defaults={"changes": 1})


TERRITORY = Scope(pools=None, suppress=True)


def _scope_key(scope: Scope) -> str:
    pools = "all" if scope.pools is None else ",".join(str(p) for p in scope.pools)
    return f"pools={pools};suppress={int(scope.suppress)}"


def _scope_of_key(key: str) -> Scope | None:
    try:
        pools_part, suppress_part = key.split(";")
        pools = pools_part.removeprefix("pools=")
        suppress = suppress_part.removeprefix("suppress=") == "1"
        if pools == "all":
            return Scope(pools=None, suppress=suppress)
        return Scope(pools=tuple(int(p) for p in pools.split(",")), suppress=suppress)
    except ValueError:
        return None


def _fingerprint() -> tuple[int, int]:
    """The clock and the newest request's id: two index reads, whatever the table's size."""
    clock = FiguresClock.objects.filter(pk=1).values_list("changes", flat=True).first()
    with connection.cursor() as cursor:
        # An id, no patient: read as the aggregates are, by the table's name.
        cursor.execute(f"SELECT max(id) FROM {_table()}")  # noqa: S608 (the table's name only)
        row = cursor.fetchone()
    return int(clock or 0), int((row or (0,))[0] or 0)


def _raw_to_json(raw: dict[tuple[str, object], Raw]) -> list[list[object]]:
    out: list[list[object]] = []
    for (dimension, key), (answered, answer_q, concluded, conclusion_q, on_time) in raw.items():
        value = key.isoformat() if isinstance(key, dt.date) else key
        out.append(
            [
                dimension,
                value,
                answered,
                _floats(answer_q),
                concluded,
                _floats(conclusion_q),
                on_time,
            ]
        )
    return out


def _floats(values: Sequence[float] | None) -> list[float] | None:
    return None if values is None else [float(v) for v in values]


def _raw_from_json(rows: list[list[Any]]) -> dict[tuple[str, object], Raw]:
    raw: dict[tuple[str, object], Raw] = {}
    for dimension, key, answered, answer_q, concluded, conclusion_q, on_time in rows:
        raw[(dimension, key)] = (answered, answer_q, concluded, conclusion_q, on_time)
    return raw


def _table() -> str:
    return connection.ops.quote_name(Request._meta.db_table)


def _where(scope: Scope) -> tuple[str, list[int]]:
    if scope.pools is None:
        return "answer_seconds IS NOT NULL", []
    marks = ", ".join(["%s"] * len(scope.pools))
    return f"answer_seconds IS NOT NULL AND pool_id IN ({marks})", list(scope.pools)


def _aggregates_in_database(scope: Scope) -> dict[tuple[str, object], Raw]:
    where, params = _where(scope)
    quartiles = "ARRAY[0.25, 0.5, 0.75]"
    sql = f"""
        SELECT GROUPING(specialty), GROUPING(pool_id), GROUPING(asked_month),
               specialty, pool_id, asked_month,
               count(answer_seconds),
               percentile_cont({quartiles}) WITHIN GROUP (ORDER BY answer_seconds),
               count(conclusion_seconds),
               percentile_cont({quartiles}) WITHIN GROUP (ORDER BY conclusion_seconds),
               count(*) FILTER (WHERE concluded_on_time)
        FROM {_table()}
        WHERE {where}
        GROUP BY GROUPING SETS ((), (specialty), (pool_id), (asked_month))
    """  # noqa: S608 (the table's name and placeholders only; values are parameters)
    result: dict[tuple[str, object], Raw] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for g_specialty, g_pool, g_month, specialty, pool, month, *values in cursor.fetchall():
            if not g_specialty:
                key: tuple[str, object] = ("specialty", specialty)
            elif not g_pool:
                key = ("pool", pool)
            elif not g_month:
                key = ("month", month)
            else:
                key = ("all", None)
            answered, answer_q, concluded, conclusion_q, on_time = values
            result[key] = (answered, answer_q, concluded, conclusion_q, on_time)
    return result


def percentiles(ordered: Sequence[float], fractions: Iterable[float] = QUARTILES) -> list[float]:
    """As PostgreSQL's percentile_cont: linear between the two nearest ranks (values sorted)."""
    if not ordered:
        return []
    last = len(ordered) - 1
    found = []
    for fraction in fractions:
        position = fraction * last
        low = math.floor(position)
        high = min(low + 1, last)
        found.append(ordered[low] + (ordered[high] - ordered[low]) * (position - low))
    return found


def _aggregates_in_python(scope: Scope) -> dict[tuple[str, object], Raw]:
    """The same aggregates from the columns alone (SQLite has no percentile_cont)."""
    where, params = _where(scope)
    sql = (
        "SELECT specialty, pool_id, asked_month, answer_seconds, conclusion_seconds, "  # noqa: S608
        f"concluded_on_time FROM {_table()} WHERE {where}"
    )
    answers: dict[tuple[str, object], list[int]] = defaultdict(list)
    conclusions: dict[tuple[str, object], list[int]] = defaultdict(list)
    on_time: dict[tuple[str, object], int] = defaultdict(int)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for specialty, pool, month, answer, conclusion, in_time in rows:
        keys = (("all", None), ("specialty", specialty), ("pool", pool), ("month", month))
        for key in keys:
            answers[key].append(answer)
            if conclusion is not None:
                conclusions[key].append(conclusion)
                if in_time:
                    on_time[key] += 1
    result: dict[tuple[str, object], Raw] = {}
    for key, values in answers.items():
        values.sort()
        done = sorted(conclusions.get(key, []))
        result[key] = (
            len(values),
            percentiles(values) or None,
            len(done),
            percentiles(done) or None,
            on_time.get(key, 0),
        )
    return result


def _month(value: object) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)) if value else None


def _measure(count: int, quartiles: Sequence[float] | None, suppress: bool) -> Measure:
    if suppress and 0 < count < SMALL_CELL:
        return Measure(count, None, None, None, hidden=True)
    if not quartiles:
        return Measure(count, None, None, None)
    return Measure(count, quartiles[0], quartiles[1], quartiles[2])


def _row(label: str, raw: Raw, suppress: bool) -> Row:
    answered, answer_q, concluded, conclusion_q, on_time = raw
    conclusion = _measure(concluded, conclusion_q, suppress)
    return Row(
        label=label,
        answer=_measure(answered, answer_q, suppress),
        conclusion=conclusion,
        on_time=on_time,
        hidden_share=conclusion.hidden,
    )


def _shape(
    raw: dict[tuple[str, object], Raw],
    scope: Scope,
    *,
    computed_at: dt.datetime | None = None,
    outdated: bool = False,
) -> Figures:
    empty: Raw = (0, None, 0, None, 0)
    suppress = scope.suppress
    figures = Figures(
        overall=_row(_("All requests"), raw.get(("all", None), empty), suppress),
        computed_at=computed_at,
        outdated=outdated,
    )
    labels = dict(Specialty.choices)
    names: dict[object, str] = dict(Pool.objects.values_list("pk", "name"))
    for (dimension, key), values in raw.items():
        if dimension == "specialty":
            label = str(labels.get(str(key), key)) if key else _("Not stated")
            figures.by_specialty.append(_row(label, values, suppress))
        elif dimension == "pool":
            label = names.get(key, "") if key is not None else _("Asked to a named specialist")
            figures.by_pool.append(_row(str(label), values, suppress))
    figures.by_specialty.sort(key=lambda r: r.label)
    figures.by_pool.sort(key=lambda r: r.label)
    months = sorted(
        ((_month(key), values) for (d, key), values in raw.items() if d == "month"),
        key=lambda pair: pair[0] or dt.date.min,
        reverse=True,
    )
    for month, values in months:
        label = date_format(month, "F Y") if month else _("Not stated")
        figures.by_month.append(_row(label, values, suppress))
    return figures
