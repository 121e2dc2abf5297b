"""The GATT parsers on the shared byte vectors (bluetooth.js runs the same ones in the browser)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fhir.resources.observation import Observation as FhirObservation
from hypothesis import given, settings
from hypothesis import strategies as st

from maillage.lib import bluetooth as bt
from maillage.lib.loinc import is_loinc_code

VECTORS_PATH = Path(__file__).with_name("bluetooth_vectors.json")
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text())


def _bytes(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text.replace(" ", ""))


@pytest.mark.parametrize("vector", VECTORS["sfloat"], ids=lambda v: v["hex"])
def test_sfloat_vectors(vector: dict[str, str]) -> None:
    raw = int.from_bytes(_bytes(vector["hex"]), "little")
    assert bt.decode_sfloat(raw).text == vector["value"]


@pytest.mark.parametrize("vector", VECTORS["float"], ids=lambda v: v["hex"])
def test_float_vectors(vector: dict[str, str]) -> None:
    raw = int.from_bytes(_bytes(vector["hex"]), "little")
    assert bt.decode_float(raw).text == vector["value"]


@pytest.mark.parametrize("vector", VECTORS["packets"], ids=lambda v: v["name"])
def test_packet_vectors(vector: dict[str, Any]) -> None:
    characteristic = int(vector["characteristic"], 16)
    data = _bytes(vector["hex"])
    if "error" in vector:
        with pytest.raises(bt.MalformedPacket) as caught:
            bt.parse(characteristic, data)
        assert caught.value.problem.value == vector["error"]
    else:
        assert bt.parse(characteristic, data).as_dict() == vector["expect"]


def test_every_characteristic_and_error_has_vectors() -> None:
    covered = {int(v["characteristic"], 16) for v in VECTORS["packets"]}
    assert set(bt.PARSERS) <= covered
    errors = {v["error"] for v in VECTORS["packets"] if "error" in v}
    assert errors == {p.value for p in bt.Problem} - {bt.Problem.NOT_BYTES}
    specials = {v["value"] for v in VECTORS["sfloat"]} & {v["value"] for v in VECTORS["float"]}
    assert {s.value for s in bt.Special} <= specials


def test_the_standards_examples_are_exact_decimals() -> None:
    assert bt.decode_sfloat(0x0078).value == Decimal(120)
    assert bt.decode_float(0xFF00016E).value == Decimal("36.6")
    assert bt.decode_sfloat(0x07FF).value is None
    assert bt.decode_sfloat(0x07FF).special is bt.Special.NAN


def test_a_reading_carries_codes_units_and_typed_fields() -> None:
    reading = bt.parse(
        bt.BLOOD_PRESSURE_MEASUREMENT, _bytes("1E 7800 5000 FF07 EA07 0C 03 0A 14 1E 4800 01 0D00")
    )
    assert isinstance(reading, bt.BloodPressureReading)
    assert reading.systolic.coding == bt.Coding("8480-6", "150021", "Systolic blood pressure")
    assert reading.diastolic.coding.loinc == "8462-4"
    assert reading.systolic.unit == "mm[Hg]"
    assert reading.time == dt.datetime(2026, 12, 3, 10, 20, 30)
    assert reading.pulse_rate is not None
    assert reading.pulse_rate.coding.mdc == "149530"
    assert reading.status == bt.StatusBits(
        0x0D, ("body_movement", "irregular_pulse", "pulse_above_range")
    )
    assert [q.measure for q in reading.quantities()] == [
        bt.Measure.SYSTOLIC,
        bt.Measure.DIASTOLIC,
        bt.Measure.MEAN_ARTERIAL,
        bt.Measure.PULSE_RATE,
    ]


def test_the_error_says_what_is_missing() -> None:
    with pytest.raises(bt.MalformedPacket) as caught:
        bt.parse(bt.BLOOD_PRESSURE_MEASUREMENT, _bytes("04 7800 5000 5D00"))
    assert "pulse rate needs 2 bytes at offset 7, 0 left" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_what_a_browser_or_hub_posts_is_parsed_again() -> None:
    for name in (0x2A1C, "2a1c", "0x2A1C", "00002A1C-0000-1000-8000-00805F9B34FB"):
        reading = bt.parse_sent(name, "00 6e0100ff")
        assert isinstance(reading, bt.TemperatureReading)
        assert reading.temperature.value == Decimal("36.6")
    for name, hex_bytes in [
        ("2a1c", "00 6e0100f"),
        ("2a1c", "zz"),
        ("2a1c", "00" * 513),
        ("heart", "00"),
        ("12345", "00"),
        ("00002a1c-0000-1000-8000-00805f9b34fc", "00"),
    ]:
        with pytest.raises(bt.MalformedPacket) as caught:
            bt.parse_sent(name, hex_bytes)
        assert caught.value.problem is bt.Problem.NOT_BYTES
    with pytest.raises(bt.MalformedPacket) as caught:
        bt.parse_sent("2a37", "0048")
    assert caught.value.problem is bt.Problem.UNKNOWN_CHARACTERISTIC


@pytest.mark.parametrize(
    ("unit", "value", "to", "expected"),
    [
        ("kPa", "16", "mm[Hg]", "120"),
        ("kPa", "10.7", "mm[Hg]", "80"),
        ("[degF]", "98.6", "Cel", "37.00"),
        ("[degF]", "100.4", "Cel", "38.00"),
        ("[lb_av]", "155.42", "kg", "70.497"),
        ("m", "1.8", "cm", "180.0"),
        ("[in_i]", "68.5", "cm", "174.0"),
        ("kg/L", "0.00095", "mg/dL", "95"),
        ("mol/L", "0.0055", "mg/dL", "99"),
        ("mmol/L", "5.5", "mg/dL", "99"),
        ("g/L", "1.10", "mg/dL", "110"),
    ],
)
def test_conversion_to_the_stored_unit(unit: str, value: str, to: str, expected: str) -> None:
    assert bt.convert(Decimal(value), unit, to) == Decimal(expected)


def test_a_value_in_the_stored_unit_is_kept_exactly() -> None:
    reading = bt.parse(bt.TEMPERATURE_MEASUREMENT, _bytes("00 6E0100FF"))
    assert isinstance(reading, bt.TemperatureReading)
    assert reading.temperature.stored() == bt.StoredQuantity(
        bt.Measure.TEMPERATURE, Decimal("36.6"), "Cel"
    )


def test_a_special_value_stays_special_when_stored() -> None:
    reading = bt.parse(bt.WEIGHT_MEASUREMENT, _bytes("01 FFFF"))
    assert isinstance(reading, bt.WeightReading)
    stored = reading.weight.stored()
    assert (stored.value, stored.unit, stored.special) == (None, "kg", bt.Special.NAN)


def test_no_conversion_between_unrelated_units() -> None:
    with pytest.raises(ValueError, match="no conversion"):
        bt.convert(Decimal(1), "kg", "Cel")


# --- Round trips through an independent encoder (the vectors above are the spec's side) -------


@given(st.integers(-2048, 2047), st.integers(-8, 7))
def test_sfloat_round_trip(mantissa: int, exponent: int) -> None:
    raw = bt.encode_sfloat(mantissa, exponent)
    number = bt.decode_sfloat(raw)
    if raw in bt.SFLOAT_SPECIALS:
        assert number.special is bt.SFLOAT_SPECIALS[raw]
        assert exponent == 0
    else:
        assert number.value == Decimal(mantissa).scaleb(exponent)
        assert Decimal(number.text) == number.value


@given(st.integers(-(1 << 23), (1 << 23) - 1), st.integers(-128, 127))
def test_float_round_trip(mantissa: int, exponent: int) -> None:
    raw = bt.encode_float(mantissa, exponent)
    number = bt.decode_float(raw)
    if raw in bt.FLOAT_SPECIALS:
        assert number.special is bt.FLOAT_SPECIALS[raw]
    else:
        assert (number.mantissa, number.exponent) == (mantissa, exponent)
        assert Decimal(number.text) == Decimal(mantissa).scaleb(exponent)


@given(st.integers(0, 0xFFFF))
def test_every_sfloat_decodes(raw: int) -> None:
    number = bt.decode_sfloat(raw)
    assert (number.special is None) == (raw not in bt.SFLOAT_SPECIALS)
    if number.special is None:
        assert bt.encode_sfloat(number.mantissa, number.exponent) == raw


@settings(max_examples=500)
@given(st.sampled_from(sorted(bt.PARSERS)), st.binary(max_size=40))
def test_any_bytes_give_a_reading_or_a_malformed_packet(characteristic: int, data: bytes) -> None:
    try:
        reading = bt.parse(characteristic, data)
    except bt.MalformedPacket as error:
        assert error.problem in bt.Problem
    else:
        assert reading.as_dict()["kind"] == reading.kind
        # Whatever the device said, it maps (an absurd value is the store's to refuse).
        for observation in bt.observations(reading, tz=PARIS):
            assert observation["resourceType"] == "Observation"


# --- FHIR form -----------------------------------------------------------------------------------

PARIS = ZoneInfo("Europe/Paris")


def _codes(codeable: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in codeable["coding"]}


def test_blood_pressure_is_one_panel_and_a_pulse() -> None:
    reading = bt.parse(
        bt.BLOOD_PRESSURE_MEASUREMENT, _bytes("1E 7800 5000 FF07 EA07 0C 03 0A 14 1E 4800 01 0D00")
    )
    panel, pulse = bt.observations(reading, tz=PARIS)
    assert _codes(panel["code"]) == {(bt.LOINC_SYSTEM, "85354-9"), (bt.MDC_SYSTEM, "150020")}
    assert panel["effectiveDateTime"] == "2026-12-03T10:20:30+01:00"
    assert panel["category"][0]["coding"][0]["code"] == "vital-signs"
    systolic, diastolic, mean = panel["component"]
    assert _codes(systolic["code"]) == {(bt.LOINC_SYSTEM, "8480-6"), (bt.MDC_SYSTEM, "150021")}
    assert systolic["valueQuantity"] == {
        "value": Decimal(120),
        "unit": "mmHg",
        "system": bt.UCUM_SYSTEM,
        "code": "mm[Hg]",
    }
    assert _codes(diastolic["code"]) == {(bt.LOINC_SYSTEM, "8462-4"), (bt.MDC_SYSTEM, "150022")}
    assert "valueQuantity" not in mean
    assert mean["dataAbsentReason"]["coding"][0]["code"] == "not-a-number"
    assert _codes(pulse["code"]) == {(bt.LOINC_SYSTEM, "8867-4"), (bt.MDC_SYSTEM, "149530")}
    assert pulse["valueQuantity"]["value"] == Decimal(72)
    assert pulse["valueQuantity"]["code"] == "/min"
    for observation in (panel, pulse):
        FhirObservation.model_validate(observation)


def test_kpa_and_fahrenheit_are_stored_in_the_records_units() -> None:
    pressure = bt.parse(bt.BLOOD_PRESSURE_MEASUREMENT, _bytes("01 A0F0 6BF0 7CF0"))
    (panel,) = bt.observations(pressure, tz=PARIS)
    assert [c["valueQuantity"]["value"] for c in panel["component"]] == [
        Decimal(120),
        Decimal(80),
        Decimal(93),
    ]
    assert "effectiveDateTime" not in panel
    temperature = bt.parse(bt.TEMPERATURE_MEASUREMENT, _bytes("07 DA0300FF EA07 01 1F 17 3B 3B 06"))
    (observation,) = bt.observations(temperature, tz=PARIS)
    assert _codes(observation["code"]) == {(bt.LOINC_SYSTEM, "8310-5"), (bt.MDC_SYSTEM, "150364")}
    assert observation["valueQuantity"]["value"] == Decimal("37.00")
    assert observation["valueQuantity"]["code"] == "Cel"
    FhirObservation.model_validate(observation)


def test_oximeter_gives_spo2_with_both_loinc_codes_and_a_pulse() -> None:
    reading = bt.parse(
        bt.PLX_SPOT_CHECK_MEASUREMENT, _bytes("1F 6100 4100 EA07 0C 03 08 05 00 8040 200400 19F0")
    )
    spo2, pulse = bt.observations(reading, tz=PARIS)
    assert _codes(spo2["code"]) == {
        (bt.LOINC_SYSTEM, "2708-6"),
        (bt.LOINC_SYSTEM, "59408-5"),
        (bt.MDC_SYSTEM, "150456"),
    }
    assert spo2["valueQuantity"]["value"] == Decimal(97)
    assert spo2["valueQuantity"]["code"] == "%"
    assert pulse["valueQuantity"]["value"] == Decimal(65)
    continuous = bt.parse(
        bt.PLX_CONTINUOUS_MEASUREMENT, _bytes("1F 6200 4800 6100 4B00 6200 4600 2000 080000 0CF0")
    )
    assert [o["valueQuantity"]["value"] for o in bt.observations(continuous, tz=PARIS)] == [
        Decimal(98),
        Decimal(72),
    ]


def test_scale_gives_weight_bmi_and_height() -> None:
    reading = bt.parse(bt.WEIGHT_MEASUREMENT, _bytes("0F B63C EA07 0C 03 07 1E 00 02 EB00 AD02"))
    weight, bmi, height = bt.observations(reading, tz=PARIS)
    assert _codes(weight["code"]) == {(bt.LOINC_SYSTEM, "29463-7"), (bt.MDC_SYSTEM, "188736")}
    assert weight["valueQuantity"]["value"] == Decimal("70.497")
    assert weight["valueQuantity"]["code"] == "kg"
    assert bmi["valueQuantity"]["code"] == "kg/m2"
    assert height["valueQuantity"]["value"] == Decimal("174.0")
    assert height["valueQuantity"]["code"] == "cm"
    for observation in (weight, bmi, height):
        FhirObservation.model_validate(observation)


def test_glucose_in_mg_per_dl_and_none_without_a_concentration() -> None:
    reading = bt.parse(
        bt.GLUCOSE_MEASUREMENT, _bytes("1F 0201 EA07 0C 03 07 2D 00 E2FF 37C0 22 2100")
    )
    (glucose,) = bt.observations(reading, tz=PARIS)
    assert _codes(glucose["code"]) == {(bt.LOINC_SYSTEM, "2345-7"), (bt.MDC_SYSTEM, "160368")}
    assert glucose["valueQuantity"]["value"] == Decimal(99)
    assert glucose["valueQuantity"]["code"] == "mg/dL"
    assert glucose["category"][0]["coding"][0]["code"] == "laboratory"
    assert glucose["effectiveDateTime"] == "2026-12-03T07:15:00+01:00"
    FhirObservation.model_validate(glucose)
    bare = bt.parse(bt.GLUCOSE_MEASUREMENT, _bytes("00 0500 EA07 0C 03 07 2D 00"))
    assert bt.observations(bare, tz=PARIS) == []


def test_every_coded_measure_has_a_valid_loinc_code() -> None:
    codes = [c.loinc for c in bt.CODES.values() if c.loinc]
    codes += [bt.BLOOD_PRESSURE_PANEL.loinc or "", bt.SPO2_EXTRA_LOINC]
    assert all(is_loinc_code(code) for code in codes), codes


def test_the_devices_clock_is_trusted_within_reason() -> None:
    received = dt.datetime(2026, 12, 3, 10, 21, tzinfo=PARIS)
    pressure = bt.parse(
        bt.BLOOD_PRESSURE_MEASUREMENT, _bytes("02 7800 5000 5D00 EA07 0C 03 0A 14 1E")
    )
    device_time = dt.datetime(2026, 12, 3, 10, 20, 30, tzinfo=PARIS)
    assert bt.effective_time(pressure, tz=PARIS, received=received) == device_time
    assert bt.effective_time(pressure, tz=PARIS) == device_time
    # A clock ahead of the receipt, or one still in 2000 after new batteries: the receipt.
    late = received - dt.timedelta(minutes=6)
    assert bt.effective_time(pressure, tz=PARIS, received=late) == late
    reset = bt.parse(bt.BLOOD_PRESSURE_MEASUREMENT, _bytes("02 7800 5000 5D00 D007 01 01 00 05 00"))
    assert bt.effective_time(reset, tz=PARIS, received=received) == received
    (panel,) = bt.observations(reset, tz=PARIS, received=received)
    assert panel["effectiveDateTime"] == "2026-12-03T10:21:00+01:00"
    # The oximeter says its clock is not set; the glucose meter reports a time fault.
    oximeter = bt.parse(bt.PLX_SPOT_CHECK_MEASUREMENT, _bytes("11 6200 4800 EA07 0C 03 0A 14 1E"))
    assert bt.effective_time(oximeter, tz=PARIS) is None
    assert bt.effective_time(oximeter, tz=PARIS, received=received) == received
    meter = bt.parse(bt.GLUCOSE_MEASUREMENT, _bytes("0A 0100 EA07 0C 03 0A 14 1E 5FB0 11 0008"))
    assert isinstance(meter, bt.GlucoseReading)
    assert meter.sensor_status is not None
    assert meter.sensor_status.names == ("time_fault",)
    assert bt.effective_time(meter, tz=PARIS) is None
    # No time anywhere: none said.
    assert (
        bt.effective_time(bt.parse(bt.PLX_CONTINUOUS_MEASUREMENT, _bytes("00 6200 4800")), tz=PARIS)
        is None
    )
