from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maillage.lib.identifiers import (
    IdentifierProblem,
    InvalidIdentifier,
    finess_check_digit,
    is_luhn_valid,
    luhn_check_digit,
    parse_finess,
    parse_rpps,
    parse_siret,
)

digits = st.text(alphabet="0123456789", min_size=1, max_size=1).map(str)


def _single_digit_mutations(value: str, data: st.DataObject) -> str:
    positions = [i for i, c in enumerate(value) if c.isdigit()]
    i = data.draw(st.sampled_from(positions))
    new = data.draw(st.sampled_from([d for d in "0123456789" if d != value[i]]))
    return value[:i] + new + value[i + 1 :]


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_rpps_with_its_check_digit_is_valid(payload: str) -> None:
    value = payload + luhn_check_digit(payload)
    assert parse_rpps(value) == value
    assert parse_rpps(f" {value[:5]} {value[5:]} ") == value


@given(st.text(alphabet="0123456789", min_size=10, max_size=10), st.data())
def test_rpps_rejects_any_single_digit_error(payload: str, data: st.DataObject) -> None:
    value = payload + luhn_check_digit(payload)
    with pytest.raises(InvalidIdentifier) as caught:
        parse_rpps(_single_digit_mutations(value, data))
    assert caught.value.problem is IdentifierProblem.CHECK_DIGIT


@pytest.mark.parametrize(
    ("raw", "problem"),
    [("1000000000", IdentifierProblem.LENGTH), ("10000A00000", IdentifierProblem.CHARACTERS)],
)
def test_rpps_names_the_problem(raw: str, problem: IdentifierProblem) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_rpps(raw)
    assert caught.value.problem is problem


finess_prefixes = st.one_of(
    st.integers(1, 95).filter(lambda d: d != 20).map(lambda d: f"{d:02d}"),
    st.sampled_from(["2A", "2B"]),
)


@given(finess_prefixes, st.text(alphabet="0123456789", min_size=6, max_size=6))
def test_finess_with_its_key_is_valid(prefix: str, rest: str) -> None:
    first_eight = prefix + rest
    value = first_eight + finess_check_digit(first_eight)
    assert parse_finess(value) == value


@given(
    st.integers(1, 95).map(lambda d: f"{d:02d}"),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.data(),
)
def test_finess_rejects_any_single_digit_error(prefix: str, rest: str, data: st.DataObject) -> None:
    value = prefix + rest + finess_check_digit(prefix + rest)
    with pytest.raises(InvalidIdentifier):
        parse_finess(_single_digit_mutations(value, data))


def test_finess_names_the_problem() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_finess("18000123")
    assert caught.value.problem is IdentifierProblem.LENGTH
    with pytest.raises(InvalidIdentifier) as caught:
        parse_finess("1X0001234")
    assert caught.value.problem is IdentifierProblem.CHARACTERS


@given(
    st.text(alphabet="0123456789", min_size=13, max_size=13).filter(
        lambda p: not p.startswith("356000000")
    )
)
def test_siret_with_its_check_digit_is_valid(payload: str) -> None:
    value = payload + luhn_check_digit(payload)
    assert parse_siret(value) == value


@given(
    st.text(alphabet="0123456789", min_size=13, max_size=13).filter(
        lambda p: not p.startswith("356000000")
    ),
    st.data(),
)
def test_siret_rejects_any_single_digit_error(payload: str, data: st.DataObject) -> None:
    value = payload + luhn_check_digit(payload)
    mutated = _single_digit_mutations(value, data)
    if mutated.startswith("356000000"):
        return  # another rule applies to La Poste
    with pytest.raises(InvalidIdentifier):
        parse_siret(mutated)


def test_siret_follows_la_poste_exception() -> None:
    # La Poste's establishments: digits summing to a multiple of 5, not Luhn.
    assert parse_siret("35600000000051") == "35600000000051"  # digit sum 20
    with pytest.raises(InvalidIdentifier):
        parse_siret("35600000000052")


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_luhn_check_digit_makes_any_payload_valid(payload: str) -> None:
    assert is_luhn_valid(payload + luhn_check_digit(payload))
