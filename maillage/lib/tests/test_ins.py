from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maillage.lib.ins import (
    IdentityStatus,
    InvalidMatricule,
    MatriculeProblem,
    TraitMismatch,
    identity_status,
    matricule_key,
    may_transmit_matricule,
    parse_matricule,
    trait_mismatches,
)

departements = st.one_of(
    st.integers(1, 95).filter(lambda d: d != 20).map(lambda d: f"{d:02d}"),
    st.sampled_from(["2A", "2B"]),
)
months = st.one_of(st.integers(1, 12), st.integers(20, 42), st.integers(50, 99))


@st.composite
def bodies(draw: st.DrawFn) -> str:
    sex = draw(st.sampled_from("1278"))
    year = draw(st.integers(0, 99))
    month = draw(months)
    dept = draw(departements)
    commune = draw(st.integers(1, 999))
    order = draw(st.integers(1, 999))
    return f"{sex}{year:02d}{month:02d}{dept}{commune:03d}{order:03d}"


@given(bodies())
def test_it_accepts_every_body_with_its_key(body: str) -> None:
    key = matricule_key(body)
    assert 1 <= int(key) <= 97
    assert parse_matricule(body + key).value == body + key


@given(bodies(), st.data())
def test_it_catches_any_single_digit_error(body: str, data: st.DataObject) -> None:
    value = body + matricule_key(body)
    digit_positions = [i for i, c in enumerate(value) if c.isdigit()]
    i = data.draw(st.sampled_from(digit_positions))
    replacement = data.draw(st.sampled_from([d for d in "0123456789" if d != value[i]]))
    mutated = value[:i] + replacement + value[i + 1 :]
    with pytest.raises(InvalidMatricule):
        parse_matricule(mutated)


@given(bodies(), st.data())
def test_it_catches_swapped_neighbour_digits(body: str, data: st.DataObject) -> None:
    value = body + matricule_key(body)
    pairs = [
        i
        for i in range(len(value) - 1)
        if value[i].isdigit() and value[i + 1].isdigit() and value[i] != value[i + 1]
    ]
    if not pairs:
        return
    i = data.draw(st.sampled_from(pairs))
    swapped = value[:i] + value[i + 1] + value[i] + value[i + 2 :]
    with pytest.raises(InvalidMatricule):
        parse_matricule(swapped)


def test_it_replaces_corsica_letters_before_computing_the_key() -> None:
    # 2A counts as 19 and 2B as 18 (décret 82-103).
    assert matricule_key("185062A004123") == f"{97 - int('1850619004123') % 97:02d}"
    assert matricule_key("285062B004123") == f"{97 - int('2850618004123') % 97:02d}"


def test_it_accepts_spaces_and_lower_case() -> None:
    body = "2900518242012"
    spaced = f"2 90 05 18 242 012 {matricule_key(body)}"
    assert parse_matricule(spaced).value == body + matricule_key(body)
    corsican = "185062a004123"
    assert parse_matricule(corsican + matricule_key(corsican.upper())).place == "2A004"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("12345", MatriculeProblem.LENGTH),
        ("2900518242X1201", MatriculeProblem.CHARACTERS),
        ("5900518242012" + "00", MatriculeProblem.SEX),
        ("2901318242012" + "00", MatriculeProblem.MONTH),
        ("2900500242012" + "00", MatriculeProblem.PLACE),
        ("2900518242000" + "00", MatriculeProblem.ORDER),
    ],
)
def test_it_names_the_problem(raw: str, problem: MatriculeProblem) -> None:
    with pytest.raises(InvalidMatricule) as caught:
        parse_matricule(raw)
    assert caught.value.problem is problem


def test_it_finds_traits_contradicting_the_matricule() -> None:
    body = "2480318242037"
    matricule = parse_matricule(body + matricule_key(body))
    assert trait_mismatches(matricule, "F", dt.date(1948, 3, 14)) == []
    assert trait_mismatches(matricule, "M", dt.date(1949, 4, 14)) == [
        TraitMismatch.SEX,
        TraitMismatch.YEAR,
        TraitMismatch.MONTH,
    ]
    unknown_month = "2483018242037"
    m2 = parse_matricule(unknown_month + matricule_key(unknown_month))
    assert trait_mismatches(m2, "F", dt.date(1948, 7, 1)) == []


@given(st.booleans(), st.booleans(), st.booleans(), st.booleans())
def test_it_derives_the_status_by_the_rniv_rules(
    insi: bool, document: bool, doubtful: bool, fictitious: bool
) -> None:
    status = identity_status(
        retrieved_from_insi=insi,
        checked_on_document=document,
        doubtful=doubtful,
        fictitious=fictitious,
    )
    if doubtful or fictitious:
        assert status is IdentityStatus.PROVISIONAL
    elif insi and document:
        assert status is IdentityStatus.QUALIFIED
    elif insi:
        assert status is IdentityStatus.RETRIEVED
    elif document:
        assert status is IdentityStatus.VALIDATED
    else:
        assert status is IdentityStatus.PROVISIONAL
    assert may_transmit_matricule(status) == (status is IdentityStatus.QUALIFIED)
