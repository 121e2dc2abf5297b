"""Search parameters, their values, paging and the searchset Bundle.

What every search shares lives here; which parameters a resource accepts is
declared on its route. Parameter semantics follow FHIR R4 search (3.1.1):
repeating a parameter means AND, commas inside a value mean OR, ``\\`` escapes
``,`` ``|`` and ``\\``; a parameter given with an empty value is ignored.
Anything we do not understand is refused with a 400 that names it, rather
than silently ignored: a client that filters on a parameter we skip would
otherwise show the wrong patients or places.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.fhir.outcome import FhirError, Issue
from maillage.fhir.result import FhirResult, Json
from maillage.lib.geo import GeoPoint
from maillage.lib.names import normalise_name

if TYPE_CHECKING:
    from maillage.fhir.router import Call, Route

DEFAULT_COUNT = 20
MAX_COUNT = 100
# Keeps OFFSET within a 32-bit integer on every database backend.
MAX_OFFSET = 2_000_000_000
PAGING_PARAMS = ("_count", "_offset")
# Accepted everywhere; content negotiation reads it.
GENERAL_PARAMS = ("_format",)
# Parameters that shape the result rather than filter it (FHIR 3.1.1.5 and
# fhirpy's ``_totalMethod``); a route accepts those it declares (``result_params``).
RESULT_PARAMS = frozenset(
    {"_sort", "_total", "_totalMethod", "_summary", "_elements", "_include", "_revinclude"}
)
NUL = "\x00"
SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
    "display": "subsetted",
}
# Top-level elements a resource cannot lack: kept whatever _elements asks
# (FHIR: servers SHOULD return mandatory elements), so that it stays valid.
MANDATORY_ELEMENTS: Mapping[str, frozenset[str]] = {
    "DocumentReference": frozenset({"status", "content"}),
    "Communication": frozenset({"status"}),
    "Consent": frozenset({"status", "scope", "category"}),
    "AuditEvent": frozenset({"type", "recorded", "agent", "source"}),
    "ServiceRequest": frozenset({"status", "intent", "subject"}),
    "Task": frozenset({"status", "intent"}),
}
ALWAYS_KEPT = frozenset({"resourceType", "id", "meta"})
_ELEMENT = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}")

M = TypeVar("M", bound=Model)
T = TypeVar("T")


class ParamType(enum.StrEnum):
    STRING = "string"
    TOKEN = "token"  # noqa: S105 (a FHIR parameter type, not a secret)
    DATE = "date"
    REFERENCE = "reference"
    SPECIAL = "special"


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: ParamType
    documentation: str
    # ``near`` takes one point: neither repetition nor alternatives make sense.
    single: bool = False
    # The values a result parameter accepts: _sort keys, _include targets.
    values: tuple[str, ...] = ()


class Total(enum.StrEnum):
    NONE = "none"
    ESTIMATE = "estimate"
    ACCURATE = "accurate"


# fhirpy's count() sends Aidbox's ``_totalMethod=count``.
_TOTAL_METHODS = {"count": Total.ACCURATE, "estimate": Total.ESTIMATE, "none": Total.NONE}


@dataclass(frozen=True)
class SortKey:
    name: str
    descending: bool = False


@dataclass(frozen=True)
class Include:
    """``Source:param`` of _include or _revinclude, as the route declares it."""

    source: str
    param: str
    target: str = ""  # Source:param:Target keeps references to that type only

    @property
    def value(self) -> str:
        return f"{self.source}:{self.param}"


@dataclass(frozen=True)
class Elements:
    """_elements: the top-level elements kept (or, after ``-``, dropped)."""

    names: frozenset[str]
    exclude: bool = False


@dataclass(frozen=True)
class SearchQuery:
    # Parameter name -> one tuple of alternatives (OR) per occurrence (AND).
    criteria: Mapping[str, tuple[tuple[str, ...], ...]]
    count: int
    offset: int
    # The parameters as given, paging excluded, for the Bundle's links.
    given: tuple[tuple[str, str], ...]
    sort: tuple[SortKey, ...] = ()
    total: Total = Total.ACCURATE
    summary_count: bool = False
    elements: Elements | None = None
    includes: tuple[Include, ...] = ()
    revincludes: tuple[Include, ...] = ()

    def includes_of(self, value: str) -> bool:
        return any(i.value == value for i in self.includes)

    def revincludes_of(self, value: str) -> bool:
        return any(i.value == value for i in self.revincludes)

    def occurrences(self, name: str) -> tuple[tuple[str, ...], ...]:
        return self.criteria.get(name, ())

    def first(self, name: str) -> str | None:
        occurrences = self.occurrences(name)
        return occurrences[0][0] if occurrences else None

    @property
    def names(self) -> list[str]:
        return sorted(self.criteria)


# --- parsing the query string --------------------------------------------


def split_unescaped(value: str, separator: str, *, unescape: bool = True) -> list[str]:
    """Split on ``separator`` where it is not escaped by a backslash.

    ``unescape=False`` keeps the escapes for a second split (a token's ``|``).
    """
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in value:
        if escaped:
            current.append(char if unescape else f"\\{char}")
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        current.append("\\")
    parts.append("".join(current))
    return parts


def _unknown(name: str, accepted: Iterable[str]) -> Issue:
    name = shown(name)
    base, _sep, modifier = name.partition(":")
    names = ", ".join(sorted(accepted)) or "-"
    if modifier:
        message = _("The modifier :%(modifier)s of %(name)s is not supported.") % {
            "modifier": modifier,
            "name": base,
        }
    else:
        message = _("Unknown search parameter: %(name)s. This search accepts: %(accepted)s.") % {
            "name": name,
            "accepted": names,
        }
    return Issue(message, code="not-supported")


def _paging_value(name: str, raw: str, issues: list[Issue]) -> int | None:
    if not re.fullmatch(r"[0-9]{1,10}", raw.strip()):
        issues.append(
            Issue(
                _("%(name)s must be a whole number of 0 or more, not “%(value)s”.")
                % {"name": name, "value": shown(raw)}
            )
        )
        return None
    value = int(raw)
    if name == "_offset" and value > MAX_OFFSET:
        issues.append(Issue(_("_offset is too large.")))
        return None
    return value


@dataclass
class _Result:
    """The result parameters of one search, as they are read."""

    sort: tuple[SortKey, ...] = ()
    total: Total = Total.ACCURATE
    summary_count: bool = False
    elements: Elements | None = None
    includes: tuple[Include, ...] = ()
    revincludes: tuple[Include, ...] = ()


def _accepted_values(name: str, raw: str, accepted: Sequence[str]) -> Issue:
    return Issue(
        _("The value “%(value)s” of %(name)s is not supported. Accepted: %(accepted)s.")
        % {"value": shown(raw), "name": name, "accepted": ", ".join(accepted) or "-"},
        code="not-supported",
    )


def _sort_keys(raw: str, param: SearchParam, issues: list[Issue]) -> tuple[SortKey, ...]:
    keys: list[SortKey] = []
    for part in raw.split(","):
        descending = part.startswith("-")
        name = part.removeprefix("-")
        if name not in param.values:
            issues.append(_accepted_values("_sort", part, param.values))
            continue
        if all(key.name != name for key in keys):
            # A key named again adds nothing to the order, only work.
            keys.append(SortKey(name, descending))
    return tuple(keys)


def _total(name: str, raw: str, issues: list[Issue]) -> Total:
    choices = {t.value: t for t in Total} if name == "_total" else _TOTAL_METHODS
    if raw not in choices:
        issues.append(_accepted_values(name, raw, list(choices)))
        return Total.ACCURATE
    return choices[raw]


def _elements(raw: str, issues: list[Issue]) -> Elements | None:
    exclude = raw.startswith("-")
    names = [n.strip() for n in raw.removeprefix("-").split(",") if n.strip()]
    bad = [n for n in names if not _ELEMENT.fullmatch(n)]
    if bad or not names:
        issues.append(
            Issue(
                _("_elements takes names of elements separated by commas, not “%(value)s”.")
                % {"value": shown(raw)}
            )
        )
        return None
    return Elements(frozenset(names), exclude)


def _includes(name: str, raw: str, param: SearchParam, issues: list[Issue]) -> tuple[Include, ...]:
    found = []
    for part in raw.split(","):
        # Source:param, or Source:param:Target with the one target it has.
        pieces = part.split(":")
        value = ":".join(pieces[:2])
        if len(pieces) > 3 or value not in param.values:
            issues.append(_accepted_values(name, part, param.values))
            continue
        found.append(Include(pieces[0], pieces[1], pieces[2] if len(pieces) == 3 else ""))
    return tuple(found)


def _result_param(
    name: str, raw: str, param: SearchParam, result: _Result, issues: list[Issue]
) -> None:
    if name == "_sort":
        result.sort = _sort_keys(raw, param, issues)
    elif name in {"_total", "_totalMethod"}:
        result.total = _total(name, raw, issues)
    elif name == "_summary":
        if raw not in {"count", "false"}:
            issues.append(_accepted_values(name, raw, ["count", "false"]))
        result.summary_count = raw == "count"
    elif name == "_elements":
        result.elements = _elements(raw, issues)
    # Each include once, however often it is asked (each one is a search per
    # match): at most the references the route declares.
    elif name == "_include":
        result.includes = tuple(
            dict.fromkeys(result.includes + _includes(name, raw, param, issues))
        )
    else:
        result.revincludes = tuple(
            dict.fromkeys(result.revincludes + _includes(name, raw, param, issues))
        )


def parse_search(query: Sequence[tuple[str, str]], params: Sequence[SearchParam]) -> SearchQuery:
    """Check every parameter of a search; one 400 lists every problem."""
    known = {p.name: p for p in params}
    accepted = [*known, *PAGING_PARAMS]
    issues: list[Issue] = []
    criteria: dict[str, list[tuple[str, ...]]] = {}
    paging: dict[str, int] = {}
    seen: set[str] = set()
    given: list[tuple[str, str]] = []
    result = _Result()
    for name, raw in query:
        if NUL in name or NUL in raw:
            # No database stores it (PostgreSQL refuses it outright).
            issues.append(Issue(_("%(name)s contains a NUL character.") % {"name": name}))
        elif name in GENERAL_PARAMS:
            given.append((name, raw))
        elif name in PAGING_PARAMS or (name in RESULT_PARAMS and name in known):
            if name in seen and name not in {"_include", "_revinclude"}:
                issues.append(Issue(_("%(name)s is given more than once.") % {"name": name}))
            seen.add(name)
            if name in PAGING_PARAMS:
                value = _paging_value(name, raw, issues)
                if value is not None:
                    paging[name] = value
            elif raw != "":
                _result_param(name, raw, known[name], result, issues)
                given.append((name, raw))
        elif name not in known:
            issues.append(_unknown(name, accepted))
        elif raw == "":
            continue
        elif known[name].single:
            if name in criteria:
                issues.append(Issue(_("%(name)s is given more than once.") % {"name": name}))
            criteria[name] = [(raw,)]
            given.append((name, raw))
        else:
            # A token is split again on "|": its escapes must survive this split.
            unescape = known[name].type is not ParamType.TOKEN
            alternatives = tuple(split_unescaped(raw, ",", unescape=unescape))
            criteria.setdefault(name, []).append(alternatives)
            given.append((name, raw))
    if issues:
        raise FhirError(400, issues)
    return SearchQuery(
        criteria={name: tuple(values) for name, values in criteria.items()},
        # _summary=count: the total alone, no resource is read.
        count=0 if result.summary_count else min(paging.get("_count", DEFAULT_COUNT), MAX_COUNT),
        offset=paging.get("_offset", 0),
        given=tuple(given),
        sort=result.sort,
        total=result.total,
        summary_count=result.summary_count,
        elements=result.elements,
        includes=result.includes,
        revincludes=result.revincludes,
    )


def reject_parameters(query: Sequence[tuple[str, str]], accepted: Sequence[str] = ()) -> None:
    """Interactions other than search take no parameter but _format (and an operation's own)."""
    unknown = sorted(
        {name for name, _value in query if name not in GENERAL_PARAMS and name not in accepted}
    )
    if unknown:
        raise FhirError(
            400, [Issue(_not_taken(name, accepted), code="not-supported") for name in unknown]
        )


def _not_taken(name: str, accepted: Sequence[str]) -> str:
    if not accepted:
        return _("Unknown parameter: %(name)s. This interaction takes none.") % {"name": name}
    return _("Unknown or unsupported parameter: %(name)s. This accepts: %(accepted)s.") % {
        "name": shown(name),
        "accepted": ", ".join(accepted),
    }


def shown(value: str, limit: int = 60) -> str:
    """A value quoted back in diagnostics, cut short: it is the client's own input."""
    return value if len(value) <= limit else f"{value[:limit]}…"


def invalid_value(name: str, value: str, hint: str = "") -> FhirError:
    message = _("The value “%(value)s” of %(name)s is not valid.") % {
        "value": shown(value),
        "name": name,
    }
    return FhirError(400, [Issue(f"{message} {hint}".strip())])


def any_of(alternatives: Iterable[Q]) -> Q:
    """OR of the alternatives; no alternative matches nothing."""
    q = Q(pk__in=[])
    for alternative in alternatives:
        q |= alternative
    return q


def all_of(query: SearchQuery, name: str, build: Callable[[str], Q]) -> Q:
    """AND over occurrences of OR over alternatives, each built by ``build``."""
    q = Q()
    for alternatives in query.occurrences(name):
        q &= any_of(build(value) for value in alternatives)
    return q


# --- what every search route declares ----------------------------------------


def general_params(
    *,
    sort: Sequence[str],
    include: Sequence[str] = (),
    revinclude: Sequence[str] = (),
) -> tuple[SearchParam, ...]:
    """_id, _lastUpdated and the result parameters, for a route's SEARCH_PARAMS."""
    params = [
        SearchParam("_id", ParamType.TOKEN, "The resource's id; several separated by commas."),
        SearchParam(
            "_lastUpdated",
            ParamType.DATE,
            "When the resource last changed (meta.lastUpdated): YYYY, YYYY-MM, YYYY-MM-DD "
            "or a dateTime, with prefix eq, ne, lt, le, gt or ge.",
        ),
        SearchParam(
            "_sort",
            ParamType.SPECIAL,
            f"Sort by {', '.join(sort)}; '-' in front for descending; several separated by commas.",
            values=tuple(sort),
        ),
        SearchParam("_total", ParamType.SPECIAL, "none, estimate or accurate (the default)."),
        SearchParam(
            "_totalMethod", ParamType.SPECIAL, "count, estimate or none (as fhirpy's count())."
        ),
        SearchParam("_summary", ParamType.SPECIAL, "count: the total alone; false: everything."),
        SearchParam(
            "_elements",
            ParamType.SPECIAL,
            "Top-level elements to keep (id, meta and mandatory ones are always kept); the "
            "resource is then tagged SUBSETTED.",
        ),
    ]
    if include:
        params.append(
            SearchParam(
                "_include",
                ParamType.SPECIAL,
                f"{', '.join(include)}: each included resource is read through the policy, "
                "audited, and left out if you may not read it.",
                values=tuple(include),
            )
        )
    if revinclude:
        params.append(
            SearchParam(
                "_revinclude",
                ParamType.SPECIAL,
                f"{', '.join(revinclude)}: each included resource is read through the policy, "
                "audited, and left out if you may not read it.",
                values=tuple(revinclude),
            )
        )
    return tuple(params)


# --- values ----------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    system: str | None  # None: any system; "": explicitly no system
    code: str


def token(value: str) -> Token:
    parts = split_unescaped(value, "|")
    if len(parts) == 1:
        return Token(None, parts[0])
    return Token(parts[0], "|".join(parts[1:]))


def search_term(name: str, value: str) -> str:
    """A string parameter's value as compared: case, accents and hyphens ignored."""
    term = normalise_name(value)
    if not term:
        raise invalid_value(name, value, _("Give at least one letter or digit."))
    return term


def starts_a_word(term: str, text: str) -> bool:
    """FHIR string search: the value starts with the term, or one of its words does.

    Names of structures ("Maison de santé de Sancoins") are looked up by any
    of their words; both sides are normalised (see maillage.lib.names).
    """
    normalised = normalise_name(text)
    return normalised.startswith(term) or f" {term}" in f" {normalised}"


def reference_id(name: str, value: str, resource_type: str) -> uuid.UUID | None:
    """The id of a reference parameter (``Type/id``, ``id`` or an absolute URL).

    A reference to another resource type is an error; an id that cannot be
    one of ours simply matches nothing.
    """
    parts = value.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] != resource_type:
        raise invalid_value(
            name, value, _("It must refer to a %(type)s.") % {"type": resource_type}
        )
    try:
        return uuid.UUID(parts[-1])
    except ValueError:
        return None


_DATE = re.compile(r"^(?P<prefix>eq|ne|lt|gt|le|ge)?(?P<date>\d{4}(-\d{2}(-\d{2})?)?)$")


def date_range(text: str) -> tuple[dt.date, dt.date]:
    """[start, end) of a date given to the year, the month or the day."""
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 1:
        return dt.date(parts[0], 1, 1), dt.date(parts[0] + 1, 1, 1)
    if len(parts) == 2:
        start = dt.date(parts[0], parts[1], 1)
        following = dt.date(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
        return start, following
    day = dt.date(parts[0], parts[1], parts[2])
    return day, day + dt.timedelta(days=1)


def date_q(name: str, value: str, field_name: str) -> Q:
    """A date parameter (prefixes eq, ne, lt, gt, le, ge) as a filter on ``field_name``."""
    match = _DATE.match(value)
    if match is None:
        raise invalid_value(
            name,
            value,
            _("Use YYYY, YYYY-MM or YYYY-MM-DD, with eq, ne, lt, gt, le or ge in front if needed."),
        )
    try:
        start, end = date_range(match["date"])
    except (ValueError, OverflowError):
        raise invalid_value(name, value, _("This date does not exist.")) from None
    within = Q(**{f"{field_name}__gte": start, f"{field_name}__lt": end})
    return {
        None: within,
        "eq": within,
        "ne": ~within,
        "lt": Q(**{f"{field_name}__lt": start}),
        "le": Q(**{f"{field_name}__lt": end}),
        "gt": Q(**{f"{field_name}__gte": end}),
        "ge": Q(**{f"{field_name}__gte": start}),
    }[match["prefix"]]


_INSTANT = re.compile(
    r"(?P<prefix>eq|ne|lt|gt|le|ge)?(?P<date>\d{4}(?:-\d{2}(?:-\d{2})?)?)"
    r"(?:T(?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(?P<tz>Z|[+\- ]\d{2}:\d{2})?)?"
)


@dataclass(frozen=True)
class Period:
    """A date or dateTime parameter on an instant: [start, end) and its prefix."""

    prefix: str | None
    start: dt.datetime
    end: dt.datetime

    def q(self, field_name: str) -> Q:
        within = Q(**{f"{field_name}__gte": self.start, f"{field_name}__lt": self.end})
        return {
            None: within,
            "eq": within,
            "ne": ~within,
            "lt": Q(**{f"{field_name}__lt": self.start}),
            "le": Q(**{f"{field_name}__lt": self.end}),
            "gt": Q(**{f"{field_name}__gte": self.end}),
            "ge": Q(**{f"{field_name}__gte": self.start}),
        }[self.prefix]

    def holds(self, value: dt.datetime) -> bool:
        within = self.start <= value < self.end
        return {
            None: within,
            "eq": within,
            "ne": not within,
            "lt": value < self.start,
            "le": value < self.end,
            "gt": value >= self.end,
            "ge": value >= self.start,
        }[self.prefix]


def _zone(text: str | None) -> dt.tzinfo:
    if text is None:
        # FHIR: without a zone, the server's.
        return timezone.get_current_timezone()
    if text == "Z":
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def _time_range(day: dt.date, text: str, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    clock, _dot, fraction = text.partition(".")
    parts = [int(p) for p in clock.split(":")]
    seconds = parts[2] if len(parts) == 3 else 0
    start = dt.datetime.combine(day, dt.time(parts[0], parts[1], seconds), tzinfo=zone)
    if fraction:
        start = start.replace(microsecond=int(fraction.ljust(6, "0")))
        return start, start + dt.timedelta(microseconds=10 ** (6 - len(fraction)))
    return start, start + (dt.timedelta(minutes=1) if len(parts) == 2 else dt.timedelta(seconds=1))


def period(name: str, value: str) -> Period:
    """A date or dateTime with its prefix, as a range of instants (to the precision given)."""
    match = _INSTANT.fullmatch(value)
    if match is None:
        raise invalid_value(
            name,
            value,
            _(
                "Use YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a zone (Z or +01:00), "
                "with eq, ne, lt, gt, le or ge in front if needed."
            ),
        )
    try:
        first, following = date_range(match["date"])
        zone = _zone(match["tz"])
        if match["time"] is not None:
            if len(match["date"]) != 10:
                raise ValueError
            start, end = _time_range(first, match["time"], zone)
        else:
            start = dt.datetime.combine(first, dt.time(), tzinfo=zone)
            end = dt.datetime.combine(following, dt.time(), tzinfo=zone)
    except (ValueError, OverflowError):
        raise invalid_value(name, value, _("This date does not exist.")) from None
    return Period(match["prefix"], start, end)


def period_q(query: SearchQuery, name: str, field_name: str) -> Q:
    """A date parameter on an instant field, AND over occurrences of OR over alternatives."""
    return all_of(query, name, lambda value: period(name, value).q(field_name))


def period_test(query: SearchQuery, name: str) -> Callable[[dt.datetime], bool]:
    """The same, as a test of an instant, for rows already in memory."""
    occurrences = [
        [period(name, v) for v in alternatives] for alternatives in query.occurrences(name)
    ]
    return lambda value: all(any(p.holds(value) for p in ps) for ps in occurrences)


def ids_q(query: SearchQuery, field_name: str = "uuid") -> Q:
    """_id on a UUID field: an id that cannot be one of ours matches nothing."""

    def one(value: str) -> Q:
        try:
            return Q(**{field_name: uuid.UUID(value)})
        except ValueError:
            return Q(pk__in=[])

    return all_of(query, "_id", one)


def id_test(query: SearchQuery) -> Callable[[str], bool]:
    """_id as a test of a resource id, for rows already in memory."""
    occurrences = query.occurrences("_id")
    return lambda resource_id: all(resource_id in alternatives for alternatives in occurrences)


# --- sorting -------------------------------------------------------------------


def ordering(
    query: SearchQuery, fields: Mapping[str, Sequence[str]], default: Sequence[str]
) -> list[str]:
    """``order_by`` arguments: the _sort keys first, the usual order as tie-breaker."""
    order = []
    for key in query.sort:
        order += [f"-{f}" if key.descending else f for f in fields[key.name]]
    return [*order, *default]


def sorted_rows(
    rows: Iterable[T], query: SearchQuery, keys: Mapping[str, Callable[[T], Any]]
) -> list[T]:
    """Rows in memory sorted by the _sort keys; their given order breaks ties (a stable sort)."""
    result = list(rows)
    for key in reversed(query.sort):
        result.sort(key=keys[key.name], reverse=key.descending)
    return result


@dataclass(frozen=True)
class Near:
    point: GeoPoint
    radius_km: float


DEFAULT_NEAR_KM = 50.0
MAX_NEAR_KM = 1000.0


def near(name: str, value: str) -> Near:
    """``latitude|longitude|distance|unit``; the unit is km (the default)."""
    parts = value.split("|")
    hint = _("Use latitude|longitude|distance|km, e.g. 47.08|2.40|30|km.")
    if not 2 <= len(parts) <= 4:
        raise invalid_value(name, value, hint)
    unit = parts[3].strip() if len(parts) == 4 else "km"
    if unit not in {"km", ""}:
        raise invalid_value(name, value, _("Only km is supported as the unit."))
    try:
        latitude, longitude = float(parts[0]), float(parts[1])
        radius = float(parts[2]) if len(parts) >= 3 and parts[2].strip() else DEFAULT_NEAR_KM
    except ValueError:
        raise invalid_value(name, value, hint) from None
    if not all(math.isfinite(x) for x in (latitude, longitude, radius)):
        raise invalid_value(name, value, hint)
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise invalid_value(name, value, _("The latitude or the longitude is out of range."))
    if not 0 < radius <= MAX_NEAR_KM:
        raise invalid_value(
            name,
            value,
            _("The distance must be above 0 and at most %(max)s km.") % {"max": int(MAX_NEAR_KM)},
        )
    return Near(GeoPoint(latitude, longitude), radius)


Row = dict[str, Any]


def text_test(
    query: SearchQuery, fields: Mapping[str, Callable[[Row], str]]
) -> Callable[[Row], bool] | None:
    """A test of string parameters over rows, done in Python, or None if none is given.

    Our directory names have no accent-free column, and FHIR compares
    strings ignoring accents: the rows' names are normalised here instead.
    """
    tests: list[tuple[list[str], Callable[[Row], str]]] = []
    for name, text_of in fields.items():
        for alternatives in query.occurrences(name):
            tests.append(([search_term(name, value) for value in alternatives], text_of))
    if not tests:
        return None

    def passes(row: Row) -> bool:
        return all(any(starts_a_word(t, text_of(row)) for t in terms) for terms, text_of in tests)

    return passes


# --- paging and the Bundle -------------------------------------------------


def page(rows: QuerySet[M] | Sequence[M], query: SearchQuery) -> tuple[list[M], int]:
    """One page of rows and the total count."""
    total = rows.count() if isinstance(rows, QuerySet) else len(rows)
    return list(rows[query.offset : query.offset + query.count]), total


def page_filtered(
    rows: QuerySet[M],
    query: SearchQuery,
    passes: Callable[[Row], bool] | None,
    fields: Sequence[str],
) -> tuple[list[M], int]:
    """One page of the rows passing a Python test on ``fields``; whole rows for that page only."""
    if passes is None:
        return page(rows, query)
    values = rows.prefetch_related(None).values("pk", *fields)
    kept = [row["pk"] for row in values if passes(row)]
    wanted = kept[query.offset : query.offset + query.count]
    by_pk = rows.in_bulk(wanted)
    return [by_pk[pk] for pk in wanted], len(kept)


@dataclass(frozen=True)
class Match:
    resource: Json
    # Bundle.entry.search.extension, e.g. the distance of a Location.
    extension: tuple[Json, ...] = ()


def _link(call: Call, offset: int) -> str:
    query = call.query
    params = [*query.given, ("_count", str(query.count)), ("_offset", str(offset))]
    return f"{call.request.base_url}/{call.route.resource_type}?{urlencode(params, safe='|,:/')}"


def subset(resource: Json, elements: Elements) -> Json:
    """The resource cut to the elements asked for, tagged SUBSETTED (FHIR _elements)."""
    kept = ALWAYS_KEPT | MANDATORY_ELEMENTS.get(str(resource.get("resourceType")), frozenset())
    if elements.exclude:
        result = {k: v for k, v in resource.items() if k in kept or k not in elements.names}
    else:
        result = {k: v for k, v in resource.items() if k in kept or k in elements.names}
    meta = dict(result.get("meta", {}))
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    result["meta"] = meta
    return result


# --- _include and _revinclude ------------------------------------------------------

# _include: the element of a matched resource that holds the reference.
INCLUDE_ELEMENTS: Mapping[str, str] = {
    "Patient:general-practitioner": "generalPractitioner",
    "DocumentReference:subject": "subject",
    "DocumentReference:patient": "subject",
    "DocumentReference:author": "author",
    "PractitionerRole:practitioner": "practitioner",
    "PractitionerRole:organization": "organization",
    "PractitionerRole:location": "location",
    "Location:organization": "managingOrganization",
    "Communication:subject": "subject",
    "Communication:patient": "subject",
    "Communication:sender": "sender",
    "Communication:recipient": "recipient",
    "Communication:part-of": "partOf",
    "ServiceRequest:patient": "subject",
    "ServiceRequest:subject": "subject",
    "ServiceRequest:requester": "requester",
    "ServiceRequest:performer": "performer",
    "Task:focus": "focus",
    "Task:patient": "for",
    "Task:owner": "owner",
    "Task:requester": "requester",
}
# _revinclude: the search parameter of the other resource that names a matched one.
REVINCLUDE_PARAMS: Mapping[str, str] = {
    "DocumentReference:subject": "patient",
    "DocumentReference:patient": "patient",
    "PractitionerRole:practitioner": "practitioner",
    "PractitionerRole:organization": "organization",
    "Task:focus": "focus",
    "Communication:part-of": "part-of",
}


def _references(resource: Json, element: str) -> list[tuple[str, str]]:
    """(type, id) of the relative references in one element of a resource."""
    value = resource.get(element)
    items = value if isinstance(value, list) else [value]
    found = []
    for item in items:
        reference = item.get("reference", "") if isinstance(item, dict) else ""
        parts = str(reference).split("/")
        if len(parts) == 2 and all(parts):
            found.append((parts[0], parts[1]))
    return found


def _route(call: Call, resource_type: str, interaction: str) -> Route | None:
    return next(
        (
            r
            for r in call.routes
            if r.resource_type == resource_type and r.interaction.value == interaction
        ),
        None,
    )


def _scoped(call: Call, resource_type: str, interaction: str) -> bool:
    """Whether the app's token covers it; no refusal is recorded: nothing is shown."""
    caller = call.caller
    return (
        caller is None or caller.scopes is None or caller.scopes.allows(resource_type, interaction)
    )


def _read_included(call: Call, resource_type: str, resource_id: str) -> Json | None:
    """One included resource by the read handler of its type: the read's gate and audit."""
    route = _route(call, resource_type, "read")
    if route is None or not _scoped(call, resource_type, "read"):
        return None
    try:
        result = route.handler(replace(call, route=route, resource_id=resource_id, search=None))
    except (FhirError, Http404):
        return None
    if result.status != 200 or result.body.get("resourceType") != resource_type:
        return None
    return result.body


def _search_included(call: Call, resource_type: str, param: str, value: str) -> list[Json]:
    """The resources naming a matched one, by the search handler of their type."""
    route = _route(call, resource_type, "search-type")
    if route is None or not _scoped(call, resource_type, "search-type"):
        return []
    query = parse_search([(param, value), ("_count", str(MAX_COUNT))], route.search_params)
    try:
        result = route.handler(replace(call, route=route, resource_id="", search=query))
    except (FhirError, Http404):
        return []
    return [entry["resource"] for entry in result.body.get("entry", [])]


def included(call: Call, resources: Sequence[Json]) -> list[Json]:
    """The resources _include and _revinclude ask for, each as the caller may read it.

    Each one is read by the same handler as a read or a search of its type:
    the same gate decides and audits it, and what the caller may not read is
    left out without a word, so that an include never shows more than reads
    would. A _revinclude brings at most MAX_COUNT resources per match.
    """
    query = call.query
    wanted: dict[tuple[str, str], None] = {}
    for include in query.includes:
        element = INCLUDE_ELEMENTS[include.value]
        for resource in resources:
            for resource_type, resource_id in _references(resource, element):
                if include.target in ("", resource_type):
                    wanted.setdefault((resource_type, resource_id))
    found = [r for key in wanted if (r := _read_included(call, *key)) is not None]
    for revinclude in query.revincludes:
        param = REVINCLUDE_PARAMS[revinclude.value]
        for resource in resources:
            reference = f"{resource['resourceType']}/{resource['id']}"
            found += _search_included(call, revinclude.source, param, reference)
    return found


def _entry(call: Call, resource: Json, search: Json) -> Json:
    return {
        "fullUrl": f"{call.request.base_url}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": search,
    }


def searchset(call: Call, matches: Sequence[Match], total: int) -> FhirResult:
    """The searchset Bundle of one page, with self/next/previous links.

    With _include or _revinclude, the resources they name follow the matches
    (``included``), each once.
    """
    query = call.query
    links = [{"relation": "self", "url": _link(call, query.offset)}]
    if query.offset + query.count < total and query.count > 0:
        links.append({"relation": "next", "url": _link(call, query.offset + query.count)})
    if query.offset > 0 and not query.summary_count:
        links.append(
            {"relation": "previous", "url": _link(call, max(0, query.offset - query.count))}
        )
    entries = []
    seen: set[tuple[str, str]] = set()
    for match in matches:
        search: Json = {"mode": "match"}
        if match.extension:
            search["extension"] = list(match.extension)
        resource = match.resource
        if query.elements is not None:
            resource = subset(resource, query.elements)
        seen.add((resource["resourceType"], resource["id"]))
        entries.append(_entry(call, resource, search))
    extra = included(call, [m.resource for m in matches])
    for resource in extra:
        key = (resource["resourceType"], resource["id"])
        if key not in seen:
            seen.add(key)
            entries.append(_entry(call, resource, {"mode": "include"}))
    # Each entry's resource went through its R4B model in its mapper; the
    # envelope is not validated again, which would validate every entry twice.
    bundle: Json = {"resourceType": "Bundle", "type": "searchset"}
    if query.total is not Total.NONE or query.summary_count:
        bundle["total"] = total
    bundle["link"] = links
    if entries:
        bundle["entry"] = entries
    return FhirResult(bundle)
