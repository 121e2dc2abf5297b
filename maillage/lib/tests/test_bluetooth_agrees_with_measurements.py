"""The parsers' codes and the manual rules agree with what maillage.measurements stores.

Two tables name the readings (lib.bluetooth.CODES for what devices send,
measurements.codes for what the record keeps) until they are unified: this keeps
them from drifting apart, and lists what the record does not take yet.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from maillage.lib import bluetooth as bt
from maillage.lib.manual_entry import RULES
from maillage.measurements import codes as stored

# Measures a device sends that the record has no code for yet: their Observations would be
# refused there. Height and BMI, which scales send, are stored now: none is left.
NOT_STORED_YET: set[bt.Measure] = set()


def _stored_code(measure: bt.Measure) -> stored.Code | None:
    loinc = bt.CODES[measure].loinc or ""
    found = stored.COMPONENTS.get(loinc) or stored.CODES.get(loinc)
    return found if isinstance(found, stored.Code) else None


def test_the_same_loinc_and_mdc_codes() -> None:
    assert bt.BLOOD_PRESSURE_PANEL.loinc == stored.BLOOD_PRESSURE.loinc
    assert bt.BLOOD_PRESSURE_PANEL.mdc == stored.BLOOD_PRESSURE.mdc
    assert stored.SPO2.also == (bt.SPO2_EXTRA_LOINC,)
    missing = set()
    for measure, coding in bt.CODES.items():
        if coding.loinc is None:
            continue
        code = _stored_code(measure)
        if code is None:
            missing.add(measure)
            continue
        assert (code.loinc, code.mdc) == (coding.loinc, coding.mdc), measure
        # The unit observations() writes is one the record accepts.
        assert bt.STORED_UNITS[measure] in code.units, measure
    assert missing == NOT_STORED_YET


def test_what_a_hand_may_type_the_record_takes() -> None:
    for measure, rule in RULES.items():
        code = _stored_code(measure)
        if code is None:
            assert measure in NOT_STORED_YET
            continue
        span = code.units[bt.STORED_UNITS[measure]]
        low, high = rule.possible
        assert span.low <= low and high <= span.high, (measure, rule.possible, span)


def test_the_glucose_category_is_the_same() -> None:
    reading = bt.parse(bt.GLUCOSE_MEASUREMENT, bytes.fromhex("020100ea070c03072d005fb011"))
    (observation,) = bt.observations(reading, tz=dt.UTC)
    assert observation["category"][0]["coding"][0]["code"] == stored.GLUCOSE.category
    assert observation["valueQuantity"]["value"] == Decimal(95)
