"""The parsing of search parameters, without HTTP nor database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Q

from maillage.fhir.negotiation import accepts_json
from maillage.fhir.outcome import FhirError
from maillage.fhir.search import (
    DEFAULT_COUNT,
    ParamType,
    SearchParam,
    Token,
    date_q,
    date_range,
    near,
    parse_search,
    split_unescaped,
    starts_a_word,
    token,
)

PARAMS = (
    SearchParam("family", ParamType.STRING, ""),
    SearchParam("near", ParamType.SPECIAL, "", single=True),
)


def test_it_splits_on_unescaped_separators_only():
    assert split_unescaped(r"a,b\,c,d\\", ",") == ["a", "b,c", "d\\"]
    assert token(r"http://x|a\|b") == Token("http://x", "a|b")
    assert token("abc") == Token(None, "abc")
    assert token("|abc") == Token("", "abc")
    assert split_unescaped(r"a\,b,c", ",", unescape=False) == [r"a\,b", "c"]


def test_it_unescapes_a_token_once():
    params = (SearchParam("identifier", ParamType.TOKEN, ""),)
    query = parse_search([("identifier", r"s|a\,b\|c\\d,e")], params)

    (alternatives,) = query.occurrences("identifier")
    assert [token(v) for v in alternatives] == [Token("s", "a,b|c\\d"), Token(None, "e")]


def test_it_reads_repetitions_as_and_and_commas_as_or():
    query = parse_search([("family", "a,b"), ("family", "c"), ("family", "")], PARAMS)

    assert query.occurrences("family") == (("a", "b"), ("c",))
    assert query.given == (("family", "a,b"), ("family", "c"))
    assert (query.count, query.offset) == (DEFAULT_COUNT, 0)


def test_it_lists_every_problem_at_once():
    with pytest.raises(FhirError) as raised:
        parse_search(
            [("x", "1"), ("_count", "a"), ("_count", "2"), ("near", "1|2"), ("near", "3|4")], PARAMS
        )

    assert raised.value.status == 400
    assert len(raised.value.issues) == 4


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("1948", dt.date(1948, 1, 1), dt.date(1949, 1, 1)),
        ("1948-12", dt.date(1948, 12, 1), dt.date(1949, 1, 1)),
        ("1948-02", dt.date(1948, 2, 1), dt.date(1948, 3, 1)),
        ("1948-02-29", dt.date(1948, 2, 29), dt.date(1948, 3, 1)),
    ],
)
def test_it_turns_a_partial_date_into_a_range(value, start, end):
    assert date_range(value) == (start, end)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1948-12", Q(d__gte=dt.date(1948, 12, 1), d__lt=dt.date(1949, 1, 1))),
        ("eq1948-12", Q(d__gte=dt.date(1948, 12, 1), d__lt=dt.date(1949, 1, 1))),
        ("ne1948", ~Q(d__gte=dt.date(1948, 1, 1), d__lt=dt.date(1949, 1, 1))),
        ("lt1948-12", Q(d__lt=dt.date(1948, 12, 1))),
        ("le1948-12", Q(d__lt=dt.date(1949, 1, 1))),
        ("gt1948-12", Q(d__gte=dt.date(1949, 1, 1))),
        ("ge1948-12", Q(d__gte=dt.date(1948, 12, 1))),
    ],
)
def test_it_applies_date_prefixes(value, expected):
    assert date_q("birthdate", value, "d") == expected


@pytest.mark.parametrize("value", ["1948-13", "19480314", "eq", "sa1948", "1948-02-30"])
def test_it_refuses_malformed_dates(value):
    with pytest.raises(FhirError):
        date_q("birthdate", value, "d")


def test_it_reads_near_with_defaults():
    point = near("near", "47.08|2.40")

    assert (point.point.latitude, point.point.longitude, point.radius_km) == (47.08, 2.40, 50.0)
    assert near("near", "47.08|2.40|12.5|km").radius_km == 12.5


def test_it_matches_the_start_of_any_word_ignoring_accents():
    assert starts_a_word("SANCOINS", "Maison de santé de Sancoins")
    assert starts_a_word("SANTE DE S", "Maison de santé de Sancoins")
    assert not starts_a_word("COINS", "Maison de santé de Sancoins")


@pytest.mark.parametrize(
    ("accept", "answer"),
    [
        ("", True),
        ("*/*", True),
        ("application/*;q=0.5", True),
        ("application/fhir+json; fhirVersion=4.0", True),
        ("application/xml, text/html", False),
        ("application/json;q=0", False),
    ],
)
def test_it_negotiates_json(accept, answer):
    assert accepts_json(accept) is answer
