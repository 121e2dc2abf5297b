"""Readings typed by hand: units, ranges, conversion, and the French messages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils.translation import override
from hypothesis import given
from hypothesis import strategies as st

from maillage.lib.bluetooth import STORED_UNITS, Measure, convert
from maillage.lib.manual_entry import (
    RULES,
    UNIT_LABELS,
    EntryRefused,
    Refusal,
    check_blood_pressure,
    check_entry,
    parse_decimal,
)


@pytest.fixture(autouse=True)
def _french() -> object:
    with override("fr"):
        yield


@pytest.mark.parametrize(
    ("measure", "typed", "unit", "stored", "stored_unit"),
    [
        (Measure.TEMPERATURE, "36,6", "Cel", "36.6", "Cel"),
        (Measure.TEMPERATURE, "98.6", "[degF]", "37.00", "Cel"),
        (Measure.SYSTOLIC, "14", "cm[Hg]", "140", "mm[Hg]"),
        (Measure.SYSTOLIC, "16", "kPa", "120", "mm[Hg]"),
        (Measure.WEIGHT, "3 250", "g", "3.250", "kg"),
        (Measure.WEIGHT, "155.42", "[lb_av]", "70.497", "kg"),
        (Measure.HEIGHT, "1,72", "m", "172.0", "cm"),
        (Measure.GLUCOSE, "1,10", "g/L", "110", "mg/dL"),
        (Measure.GLUCOSE, "5.5", "mmol/L", "99", "mg/dL"),
        (Measure.SPO2, "97", "%", "97", "%"),
        (Measure.PULSE_RATE, " 72 ", "/min", "72", "/min"),
    ],
)
def test_a_believable_value_is_kept_in_the_records_unit(
    measure: Measure, typed: str, unit: str, stored: str, stored_unit: str
) -> None:
    entry = check_entry(measure, typed, unit)
    assert (entry.value, entry.unit, entry.warning) == (Decimal(stored), stored_unit, None)
    assert entry.entered_unit == unit
    assert entry.value.as_tuple() == Decimal(stored).as_tuple()


@pytest.mark.parametrize(
    ("measure", "typed", "unit", "message"),
    [
        (
            Measure.SPO2,
            "101",
            "%",
            "101 % n'est pas possible pour la saturation en oxygène : vérifiez la saisie "
            "(entre 30 et 100 %).",
        ),
        (
            Measure.TEMPERATURE,
            "366",
            "Cel",
            "366 °C n'est pas possible pour la température : vérifiez la saisie "
            "(entre 25 et 45 °C).",
        ),
        (
            Measure.SYSTOLIC,
            "14",
            "mm[Hg]",
            "14 mmHg n'est pas possible pour la pression systolique : vérifiez la saisie "
            "(entre 30 et 300 mmHg).",
        ),
        (
            Measure.WEIGHT,
            "-3",
            "kg",
            "-3 kg n'est pas possible pour le poids : vérifiez la saisie (entre 0,3 et 400 kg).",
        ),
        (
            Measure.TEMPERATURE,
            "120",
            "[degF]",
            "120 °F n'est pas possible pour la température : vérifiez la saisie "
            "(entre 25 et 45 °C).",
        ),
    ],
)
def test_an_impossible_value_is_refused_in_french(
    measure: Measure, typed: str, unit: str, message: str
) -> None:
    with pytest.raises(EntryRefused) as caught:
        check_entry(measure, typed, unit)
    assert caught.value.refusal is Refusal.IMPOSSIBLE
    assert caught.value.message == message


def test_an_unusual_value_is_kept_with_a_warning() -> None:
    entry = check_entry(Measure.TEMPERATURE, "41,5", "Cel")
    assert entry.value == Decimal("41.5")
    assert entry.warning == (
        "41,5 °C est inhabituel pour la température (habituellement entre 35 et 41 °C) : "
        "vérifiez avant d'enregistrer."
    )
    assert check_entry(Measure.SPO2, "82", "%").warning is not None
    assert check_entry(Measure.GLUCOSE, "0,35", "g/L").warning is not None


@pytest.mark.parametrize("typed", ["", "abc", "36,6,1", "1e3", "NaN", "Infinity", "-", ",", "3-6"])
def test_what_is_not_a_number_is_refused(typed: str) -> None:
    with pytest.raises(EntryRefused) as caught:
        check_entry(Measure.TEMPERATURE, typed, "Cel")
    assert caught.value.refusal is Refusal.NOT_A_NUMBER
    assert caught.value.message == ("Saisissez un nombre pour la température, par exemple 36,8.")


def test_a_unit_foreign_to_the_measure_is_refused() -> None:
    with pytest.raises(EntryRefused) as caught:
        check_entry(Measure.GLUCOSE, "95", "kg")
    assert caught.value.refusal is Refusal.UNIT
    assert caught.value.message == (
        "Cette unité n'est pas acceptée pour la glycémie : utilisez mg/dL, g/L, mmol/L."
    )


def test_the_pulse_amplitude_index_is_not_typed() -> None:
    with pytest.raises(EntryRefused) as caught:
        check_entry(Measure.PULSE_AMPLITUDE_INDEX, "2", "%")
    assert caught.value.refusal is Refusal.NOT_ENTERED_BY_HAND


def test_blood_pressure_pair() -> None:
    high, low = check_blood_pressure("14", "8", "cm[Hg]")
    assert (high.value, low.value) == (Decimal(140), Decimal(80))
    with pytest.raises(EntryRefused) as caught:
        check_blood_pressure("80", "120", "mm[Hg]")
    assert caught.value.refusal is Refusal.DIASTOLIC_NOT_BELOW_SYSTOLIC
    assert caught.value.message == (
        "La pression diastolique doit être inférieure à la pression systolique."
    )


def test_rules_are_consistent() -> None:
    for measure, rule in RULES.items():
        assert rule.units[0] == STORED_UNITS[measure]
        low, high = rule.possible
        usual_low, usual_high = rule.usual
        assert low < usual_low < rule.example < usual_high <= high, measure
        assert check_entry(measure, rule.example, rule.units[0]).warning is None
        for unit in rule.units:
            # Every accepted unit converts to the record's.
            assert convert(Decimal(100), unit, rule.units[0]) > 0


def test_parse_decimal() -> None:
    assert parse_decimal("36,6") == Decimal("36.6")
    assert parse_decimal("-0.5") == Decimal("-0.5")
    assert parse_decimal("1\u202f250") == Decimal(1250)
    assert parse_decimal("1.2.3") is None
    assert parse_decimal("+5") is None
    assert parse_decimal("1" * 17) is None
    assert parse_decimal("0," + "0" * 13 + "1") == Decimal("0.00000000000001")


def test_a_long_number_in_another_unit_is_refused_not_a_crash() -> None:
    with pytest.raises(EntryRefused) as caught:
        check_entry(Measure.TEMPERATURE, "9" * 400, "[degF]")
    assert caught.value.refusal is Refusal.NOT_A_NUMBER
    with pytest.raises(EntryRefused) as caught:
        check_entry(Measure.TEMPERATURE, "9" * 16, "[degF]")
    assert caught.value.refusal is Refusal.IMPOSSIBLE
    for value in (Decimal("1E+1000"), Decimal("NaN"), Decimal("-Infinity"), Decimal("1" * 40)):
        with pytest.raises(EntryRefused) as caught:
            check_entry(Measure.WEIGHT, value, "[lb_av]")
        assert caught.value.refusal is Refusal.NOT_A_NUMBER


@given(st.sampled_from(sorted(RULES)), st.text(max_size=40), st.sampled_from(sorted(UNIT_LABELS)))
def test_anything_typed_is_kept_or_refused_with_a_message(
    measure: Measure, typed: str, unit: str
) -> None:
    try:
        entry = check_entry(measure, typed, unit)
    except EntryRefused as refused:
        assert refused.message
    else:
        low, high = RULES[measure].possible
        assert low <= entry.value <= high
