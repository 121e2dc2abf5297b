"""Bluetooth health devices: the standard GATT measurement characteristics, parsed, without Django.

The assistant's browser reads blood-pressure monitors, thermometers, pulse
oximeters, scales and glucose meters over Web Bluetooth; the same bytes may
reach the server from a device hub. Both sides parse them the same way: this
module and ``front/static/maillage/js/bluetooth.js`` implement the formats of
STANDARDS.md ("Bluetooth health devices") and run the same byte vectors
(``lib/tests/bluetooth_vectors.json``).

- Numbers are IEEE-11073 SFLOAT (16 bits) or FLOAT (32 bits), kept exact as a
  mantissa and a power of ten (``Decimal``), never a binary float: 36.6 °C
  stays 36.6. Their special values (NaN, NRes, ±INF, reserved) are values,
  not errors: a cuff that does not compute the mean arterial pressure sends NaN.
- Every component of a reading carries its UCUM unit as sent, and its LOINC and
  MDC codes (``CODES``); ``Quantity.stored()`` converts it to the unit the
  record keeps (``STORED_UNITS``).
- A packet shorter than its flags announce, an empty one or an impossible date
  is refused with ``MalformedPacket`` and its ``Problem``. Flag bits and bytes
  the standard reserves for future use are ignored, as the Bluetooth
  specifications ask receivers to do, so that a newer device still reads.

One pass over the bytes, no regular expression.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

# --- Assigned numbers (Bluetooth SIG) ---------------------------------------------------------

SERVICE_BLOOD_PRESSURE = 0x1810
SERVICE_HEALTH_THERMOMETER = 0x1809
SERVICE_PULSE_OXIMETER = 0x1822
SERVICE_WEIGHT_SCALE = 0x181D
SERVICE_GLUCOSE = 0x1808

BLOOD_PRESSURE_MEASUREMENT = 0x2A35
TEMPERATURE_MEASUREMENT = 0x2A1C
PLX_SPOT_CHECK_MEASUREMENT = 0x2A5E
PLX_CONTINUOUS_MEASUREMENT = 0x2A5F
WEIGHT_MEASUREMENT = 0x2A9D
GLUCOSE_MEASUREMENT = 0x2A18
# What a device sends beside its measurements, shown live and never recorded: the cuff's
# pressure while it inflates, the thermometer's value while it settles, and the context of
# a glucose measurement (meal, exercise, medication, HbA1c) sent after it with its sequence.
INTERMEDIATE_CUFF_PRESSURE = 0x2A36
INTERMEDIATE_TEMPERATURE = 0x2A1E
GLUCOSE_MEASUREMENT_CONTEXT = 0x2A34

# Which characteristic of which service the browser subscribes to.
SERVICE_OF = {
    BLOOD_PRESSURE_MEASUREMENT: SERVICE_BLOOD_PRESSURE,
    TEMPERATURE_MEASUREMENT: SERVICE_HEALTH_THERMOMETER,
    PLX_SPOT_CHECK_MEASUREMENT: SERVICE_PULSE_OXIMETER,
    PLX_CONTINUOUS_MEASUREMENT: SERVICE_PULSE_OXIMETER,
    WEIGHT_MEASUREMENT: SERVICE_WEIGHT_SCALE,
    GLUCOSE_MEASUREMENT: SERVICE_GLUCOSE,
    INTERMEDIATE_CUFF_PRESSURE: SERVICE_BLOOD_PRESSURE,
    INTERMEDIATE_TEMPERATURE: SERVICE_HEALTH_THERMOMETER,
    GLUCOSE_MEASUREMENT_CONTEXT: SERVICE_GLUCOSE,
}


# --- Errors -------------------------------------------------------------------------------------


class Problem(enum.StrEnum):
    EMPTY = "empty"
    TRUNCATED = "truncated"
    BAD_TIME = "bad_time"
    UNKNOWN_CHARACTERISTIC = "unknown_characteristic"
    NOT_BYTES = "not_bytes"  # parse_sent(): what was posted is not a characteristic and hex bytes


class MalformedPacket(ValueError):
    """The bytes are not a measurement of the characteristic they came from."""

    def __init__(self, problem: Problem, detail: str) -> None:
        super().__init__(f"{problem.value}: {detail}")
        self.problem = problem
        self.detail = detail


# --- IEEE-11073 numbers ------------------------------------------------------------------------


class Special(enum.StrEnum):
    """The values IEEE-11073 reserves in SFLOAT and FLOAT (exponent 0 only)."""

    NAN = "NaN"  # not a number: the device has no value (e.g. no mean pressure)
    NRES = "NRes"  # not at this resolution: the value does not fit
    POSITIVE_INFINITY = "+INF"
    NEGATIVE_INFINITY = "-INF"
    RESERVED = "reserved"


SFLOAT_SPECIALS = {
    0x07FF: Special.NAN,
    0x0800: Special.NRES,
    0x07FE: Special.POSITIVE_INFINITY,
    0x0802: Special.NEGATIVE_INFINITY,
    0x0801: Special.RESERVED,
}
FLOAT_SPECIALS = {
    0x007FFFFF: Special.NAN,
    0x00800000: Special.NRES,
    0x007FFFFE: Special.POSITIVE_INFINITY,
    0x00800002: Special.NEGATIVE_INFINITY,
    0x00800001: Special.RESERVED,
}


@dataclass(frozen=True)
class Number:
    """mantissa * 10**exponent, exactly; or one of the special values."""

    mantissa: int
    exponent: int
    special: Special | None = None

    @property
    def value(self) -> Decimal | None:
        if self.special is not None:
            return None
        return Decimal(self.mantissa).scaleb(self.exponent)

    @property
    def text(self) -> str:
        """Plain decimal notation without trailing zeros ("36.6", "120"), or the special's name."""
        if self.special is not None:
            return self.special.value
        return plain_text(self.mantissa, self.exponent)


def plain_text(mantissa: int, exponent: int) -> str:
    # Built from the digits (as bluetooth.js does) so that both sides print the same text.
    if mantissa == 0:
        return "0"
    sign = "-" if mantissa < 0 else ""
    digits = str(abs(mantissa))
    if exponent >= 0:
        return sign + digits + "0" * exponent
    digits = digits.rjust(-exponent + 1, "0")
    whole, fraction = digits[:exponent], digits[exponent:].rstrip("0")
    return sign + whole + ("." + fraction if fraction else "")


def _signed(raw: int, bits: int) -> int:
    return raw - (1 << bits) if raw >= 1 << (bits - 1) else raw


def decode_sfloat(raw: int) -> Number:
    """16 bits: a 4-bit signed exponent in the high nibble, a 12-bit signed mantissa."""
    special = SFLOAT_SPECIALS.get(raw)
    if special is not None:
        return Number(0, 0, special)
    return Number(_signed(raw & 0x0FFF, 12), _signed(raw >> 12, 4))


def decode_float(raw: int) -> Number:
    """32 bits: an 8-bit signed exponent in the high byte, a 24-bit signed mantissa."""
    special = FLOAT_SPECIALS.get(raw)
    if special is not None:
        return Number(0, 0, special)
    return Number(_signed(raw & 0xFFFFFF, 24), _signed(raw >> 24, 8))


def encode_sfloat(mantissa: int, exponent: int) -> int:
    """The raw 16 bits of a finite SFLOAT (for tests and simulated devices)."""
    if not (-2048 <= mantissa <= 2047 and -8 <= exponent <= 7):
        raise ValueError("out of SFLOAT range")
    return ((exponent & 0xF) << 12) | (mantissa & 0x0FFF)


def encode_float(mantissa: int, exponent: int) -> int:
    """The raw 32 bits of a finite FLOAT (for tests and simulated devices)."""
    if not (-(1 << 23) <= mantissa < 1 << 23 and -128 <= exponent <= 127):
        raise ValueError("out of FLOAT range")
    return ((exponent & 0xFF) << 24) | (mantissa & 0xFFFFFF)


# --- What is measured: codes and units ---------------------------------------------------------


class Measure(enum.StrEnum):
    SYSTOLIC = "systolic"
    DIASTOLIC = "diastolic"
    MEAN_ARTERIAL = "mean_arterial"
    PULSE_RATE = "pulse_rate"
    SPO2 = "spo2"
    PULSE_AMPLITUDE_INDEX = "pulse_amplitude_index"
    TEMPERATURE = "temperature"
    WEIGHT = "weight"
    HEIGHT = "height"
    BMI = "bmi"
    GLUCOSE = "glucose"


@dataclass(frozen=True)
class Coding:
    loinc: str | None
    mdc: str | None
    display: str


# STANDARDS.md ("FHIR R4 mappings" and the PHD IG paragraph). Not there, from LOINC and
# ISO/IEEE 11073-10101: mean blood pressure 8478-0, body height 8302-2 / MDC 188740,
# BMI 39156-5 / MDC 188752. The pulse amplitude index has no code we can vouch for: it is
# kept in the reading and left out of the record's Observations.
CODES: dict[Measure, Coding] = {
    Measure.SYSTOLIC: Coding("8480-6", "150021", "Systolic blood pressure"),
    Measure.DIASTOLIC: Coding("8462-4", "150022", "Diastolic blood pressure"),
    Measure.MEAN_ARTERIAL: Coding("8478-0", "150023", "Mean blood pressure"),
    Measure.PULSE_RATE: Coding("8867-4", "149530", "Heart rate"),
    Measure.SPO2: Coding("2708-6", "150456", "Oxygen saturation in Arterial blood"),
    Measure.PULSE_AMPLITUDE_INDEX: Coding(None, None, "Pulse amplitude index"),
    Measure.TEMPERATURE: Coding("8310-5", "150364", "Body temperature"),
    Measure.WEIGHT: Coding("29463-7", "188736", "Body weight"),
    Measure.HEIGHT: Coding("8302-2", "188740", "Body height"),
    Measure.BMI: Coding("39156-5", "188752", "Body mass index"),
    Measure.GLUCOSE: Coding("2345-7", "160368", "Glucose"),
}
BLOOD_PRESSURE_PANEL = Coding("85354-9", "150020", "Blood pressure panel")
SPO2_EXTRA_LOINC = "59408-5"  # "SpO2 by pulse oximetry", beside 2708-6 (STANDARDS.md)

# The unit the record keeps for each measure (UCUM).
STORED_UNITS: dict[Measure, str] = {
    Measure.SYSTOLIC: "mm[Hg]",
    Measure.DIASTOLIC: "mm[Hg]",
    Measure.MEAN_ARTERIAL: "mm[Hg]",
    Measure.PULSE_RATE: "/min",
    Measure.SPO2: "%",
    Measure.PULSE_AMPLITUDE_INDEX: "%",
    Measure.TEMPERATURE: "Cel",
    Measure.WEIGHT: "kg",
    Measure.HEIGHT: "cm",
    Measure.BMI: "kg/m2",
    Measure.GLUCOSE: "mg/dL",
}

# How a converted value is rounded: about the resolution of the devices, no false precision.
STORED_QUANTUM: dict[str, Decimal] = {
    "mm[Hg]": Decimal(1),
    "Cel": Decimal("0.01"),
    "kg": Decimal("0.001"),
    "cm": Decimal("0.1"),
    "mg/dL": Decimal(1),
}

# Factor to the stored unit (stored = value * factor), exact where the definitions are.
_FACTORS: dict[tuple[str, str], Decimal] = {
    ("kPa", "mm[Hg]"): Decimal(1000) / Decimal("133.322387415"),
    # French patients and some doctors say "14/8": centimetres of mercury.
    ("cm[Hg]", "mm[Hg]"): Decimal(10),
    ("[lb_av]", "kg"): Decimal("0.45359237"),
    ("g", "kg"): Decimal("0.001"),
    ("m", "cm"): Decimal(100),
    ("[in_i]", "cm"): Decimal("2.54"),
    ("kg/L", "mg/dL"): Decimal(100_000),
    ("g/L", "mg/dL"): Decimal(100),
    # Glucose's molar mass is 180.16 g/mol: 1 mol/L = 180.16 g/L = 18016 mg/dL.
    ("mol/L", "mg/dL"): Decimal(18_016),
    ("mmol/L", "mg/dL"): Decimal("18.016"),
}


MAX_DIGITS = 200


def convert(value: Decimal, unit: str, to: str) -> Decimal:
    """``value`` in ``unit`` expressed in ``to``; exact when the units agree, else rounded."""
    if unit == to:
        return value
    if (unit, to) != ("[degF]", "Cel") and (unit, to) not in _FACTORS:
        raise ValueError(f"no conversion from {unit} to {to}")
    # Enough digits for any FLOAT (10^127 x 2^23) to be converted and rounded, not refused:
    # an absurd value is the record's range check to refuse, not an arithmetic error.
    with localcontext(prec=MAX_DIGITS):
        if (unit, to) == ("[degF]", "Cel"):
            converted = (value - 32) * 5 / 9
        else:
            converted = value * _FACTORS[unit, to]
        quantum = STORED_QUANTUM.get(to, Decimal("0.01"))
        return converted.quantize(quantum, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Quantity:
    """One measured component, in the unit the device used."""

    measure: Measure
    number: Number
    unit: str  # UCUM

    @property
    def coding(self) -> Coding:
        return CODES[self.measure]

    @property
    def value(self) -> Decimal | None:
        return self.number.value

    def stored(self) -> StoredQuantity:
        """The same, in the record's unit (a special value stays special)."""
        to = STORED_UNITS[self.measure]
        value = self.number.value
        return StoredQuantity(
            self.measure,
            None if value is None else convert(value, self.unit, to),
            to,
            self.number.special,
        )

    def as_dict(self) -> dict[str, str]:
        return {"value": self.number.text, "unit": self.unit}


@dataclass(frozen=True)
class StoredQuantity:
    measure: Measure
    value: Decimal | None
    unit: str
    special: Special | None = None


@dataclass(frozen=True)
class StatusBits:
    """A status field: its raw bits and the names of those set (reserved bits unnamed)."""

    raw: int
    names: tuple[str, ...]


def _bits(raw: int, names: dict[int, str]) -> StatusBits:
    return StatusBits(raw, tuple(name for bit, name in names.items() if raw >> bit & 1))


# --- Reading bytes ------------------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes, what: str) -> None:
        if not data:
            raise MalformedPacket(Problem.EMPTY, f"{what}: no bytes")
        self.data = data
        self.what = what
        self.pos = 0

    def _take(self, size: int, field: str) -> bytes:
        end = self.pos + size
        if end > len(self.data):
            raise MalformedPacket(
                Problem.TRUNCATED,
                f"{self.what}: {field} needs {size} bytes at offset {self.pos}, "
                f"{len(self.data) - self.pos} left",
            )
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def uint(self, size: int, field: str) -> int:
        return int.from_bytes(self._take(size, field), "little")

    def sint(self, size: int, field: str) -> int:
        return int.from_bytes(self._take(size, field), "little", signed=True)

    def sfloat(self, field: str) -> Number:
        return decode_sfloat(self.uint(2, field))

    def float32(self, field: str) -> Number:
        return decode_float(self.uint(4, field))

    def date_time(self, field: str) -> dt.datetime | None:
        """Bluetooth Date Time: year u16, month, day, hours, minutes, seconds (device's clock).

        Year, month or day 0 means "not known": None. Anything else out of range is refused.
        """
        year = self.uint(2, field)
        month, day, hours, minutes, seconds = self._take(5, field)
        if year == 0 or month == 0 or day == 0:
            return None
        if not 1582 <= year <= 9999:
            raise MalformedPacket(Problem.BAD_TIME, f"{self.what}: {field} year {year}")
        try:
            # The device's clock has no zone: the caller knows where the device is.
            return dt.datetime(year, month, day, hours, minutes, seconds)
        except ValueError as error:
            raise MalformedPacket(Problem.BAD_TIME, f"{self.what}: {field} {error}") from None


# --- Readings -----------------------------------------------------------------------------------


def _time_text(time: dt.datetime | None) -> str | None:
    return None if time is None else time.isoformat()


def _names(bits: StatusBits | None) -> list[str] | None:
    return None if bits is None else list(bits.names)


def _values(*quantities: tuple[str, Quantity | None]) -> dict[str, dict[str, str]]:
    return {key: q.as_dict() for key, q in quantities if q is not None}


BLOOD_PRESSURE_STATUS = {0: "body_movement", 1: "cuff_too_loose", 2: "irregular_pulse"}
# Bits 3-4 are one field: 1 pulse above the device's range, 2 below it (3 reserved).
BLOOD_PRESSURE_PULSE_RANGE = {1: "pulse_above_range", 2: "pulse_below_range"}
BLOOD_PRESSURE_IMPROPER_POSITION = 5


@dataclass(frozen=True)
class BloodPressureReading:
    systolic: Quantity
    diastolic: Quantity
    mean_arterial: Quantity
    time: dt.datetime | None
    pulse_rate: Quantity | None
    user_id: int | None  # 0xFF: unknown user
    status: StatusBits | None

    kind = "blood_pressure"

    def quantities(self) -> list[Quantity]:
        optional = [self.pulse_rate] if self.pulse_rate else []
        return [self.systolic, self.diastolic, self.mean_arterial, *optional]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "time": _time_text(self.time),
            "values": _values(
                ("systolic", self.systolic),
                ("diastolic", self.diastolic),
                ("mean_arterial", self.mean_arterial),
                ("pulse_rate", self.pulse_rate),
            ),
            "user": self.user_id,
            "status": _names(self.status),
        }


def _blood_pressure_status(raw: int) -> StatusBits:
    names = list(_bits(raw, BLOOD_PRESSURE_STATUS).names)
    pulse_range = BLOOD_PRESSURE_PULSE_RANGE.get(raw >> 3 & 0b11)
    if pulse_range:
        names.append(pulse_range)
    if raw >> BLOOD_PRESSURE_IMPROPER_POSITION & 1:
        names.append("improper_position")
    return StatusBits(raw, tuple(names))


def parse_blood_pressure(data: bytes) -> BloodPressureReading:
    r = _Reader(data, "blood pressure measurement")
    flags = r.uint(1, "flags")
    unit = "kPa" if flags & 0x01 else "mm[Hg]"
    systolic = Quantity(Measure.SYSTOLIC, r.sfloat("systolic"), unit)
    diastolic = Quantity(Measure.DIASTOLIC, r.sfloat("diastolic"), unit)
    mean = Quantity(Measure.MEAN_ARTERIAL, r.sfloat("mean arterial pressure"), unit)
    time = r.date_time("time stamp") if flags & 0x02 else None
    pulse = Quantity(Measure.PULSE_RATE, r.sfloat("pulse rate"), "/min") if flags & 0x04 else None
    user = r.uint(1, "user id") if flags & 0x08 else None
    status = _blood_pressure_status(r.uint(2, "measurement status")) if flags & 0x10 else None
    return BloodPressureReading(systolic, diastolic, mean, time, pulse, user, status)


TEMPERATURE_SITES = {
    1: "armpit",
    2: "body",
    3: "ear",
    4: "finger",
    5: "gastro_intestinal",
    6: "mouth",
    7: "rectum",
    8: "toe",
    9: "tympanum",
}


@dataclass(frozen=True)
class TemperatureReading:
    temperature: Quantity
    time: dt.datetime | None
    site_code: int | None

    kind = "temperature"

    @property
    def site(self) -> str | None:
        if self.site_code is None:
            return None
        return TEMPERATURE_SITES.get(self.site_code, "reserved")

    def quantities(self) -> list[Quantity]:
        return [self.temperature]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "time": _time_text(self.time),
            "values": _values(("temperature", self.temperature)),
            "site": self.site,
        }


def parse_temperature(data: bytes) -> TemperatureReading:
    r = _Reader(data, "temperature measurement")
    flags = r.uint(1, "flags")
    unit = "[degF]" if flags & 0x01 else "Cel"
    temperature = Quantity(Measure.TEMPERATURE, r.float32("temperature"), unit)
    time = r.date_time("time stamp") if flags & 0x02 else None
    site = r.uint(1, "temperature type") if flags & 0x04 else None
    return TemperatureReading(temperature, time, site)


PLX_MEASUREMENT_STATUS = {
    5: "measurement_ongoing",
    6: "early_estimated_data",
    7: "validated_data",
    8: "fully_qualified_data",
    9: "data_from_storage",
    10: "data_for_demonstration",
    11: "data_for_testing",
    12: "calibration_ongoing",
    13: "measurement_unavailable",
    14: "questionable_measurement",
    15: "invalid_measurement",
}
PLX_DEVICE_STATUS = {
    0: "extended_display_update",
    1: "equipment_malfunction",
    2: "signal_processing_irregularity",
    3: "inadequate_signal",
    4: "poor_signal",
    5: "low_perfusion",
    6: "erratic_signal",
    7: "nonpulsatile_signal",
    8: "questionable_pulse",
    9: "signal_analysis_ongoing",
    10: "sensor_interference",
    11: "sensor_unconnected",
    12: "unknown_sensor",
    13: "sensor_displaced",
    14: "sensor_malfunction",
    15: "sensor_disconnected",
}


@dataclass(frozen=True)
class PlxSpotCheckReading:
    spo2: Quantity
    pulse_rate: Quantity
    time: dt.datetime | None
    measurement_status: StatusBits | None
    device_status: StatusBits | None
    pulse_amplitude_index: Quantity | None
    clock_not_set: bool

    kind = "plx_spot_check"

    def quantities(self) -> list[Quantity]:
        return [self.spo2, self.pulse_rate]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "time": _time_text(self.time),
            "values": _values(
                ("spo2", self.spo2),
                ("pulse_rate", self.pulse_rate),
                ("pulse_amplitude_index", self.pulse_amplitude_index),
            ),
            "status": _names(self.measurement_status),
            "device_status": _names(self.device_status),
            "clock_not_set": self.clock_not_set,
        }


def _spo2_pair(r: _Reader, which: str) -> tuple[Quantity, Quantity]:
    spo2 = Quantity(Measure.SPO2, r.sfloat(f"SpO2 {which}"), "%")
    return spo2, Quantity(Measure.PULSE_RATE, r.sfloat(f"pulse rate {which}"), "/min")


def _plx_tail(r: _Reader, flags: int, status_bit: int) -> tuple[StatusBits | None, ...]:
    status = (
        _bits(r.uint(2, "measurement status"), PLX_MEASUREMENT_STATUS)
        if flags & status_bit
        else None
    )
    device = (
        _bits(r.uint(3, "device and sensor status"), PLX_DEVICE_STATUS)
        if flags & status_bit << 1
        else None
    )
    return status, device


def parse_plx_spot_check(data: bytes) -> PlxSpotCheckReading:
    r = _Reader(data, "PLX spot-check measurement")
    flags = r.uint(1, "flags")
    spo2, pulse = _spo2_pair(r, "")
    time = r.date_time("time stamp") if flags & 0x01 else None
    status, device = _plx_tail(r, flags, 0x02)
    pai = (
        Quantity(Measure.PULSE_AMPLITUDE_INDEX, r.sfloat("pulse amplitude index"), "%")
        if flags & 0x08
        else None
    )
    return PlxSpotCheckReading(spo2, pulse, time, status, device, pai, bool(flags & 0x10))


@dataclass(frozen=True)
class PlxContinuousReading:
    spo2: Quantity
    pulse_rate: Quantity
    fast: tuple[Quantity, Quantity] | None  # SpO2PR-Fast
    slow: tuple[Quantity, Quantity] | None  # SpO2PR-Slow
    measurement_status: StatusBits | None
    device_status: StatusBits | None
    pulse_amplitude_index: Quantity | None

    kind = "plx_continuous"
    time = None  # continuous readings carry no time stamp: the receiver's clock dates them

    def quantities(self) -> list[Quantity]:
        return [self.spo2, self.pulse_rate]

    def as_dict(self) -> dict[str, Any]:
        fast = self.fast or (None, None)
        slow = self.slow or (None, None)
        return {
            "kind": self.kind,
            "time": None,
            "values": _values(
                ("spo2", self.spo2),
                ("pulse_rate", self.pulse_rate),
                ("spo2_fast", fast[0]),
                ("pulse_rate_fast", fast[1]),
                ("spo2_slow", slow[0]),
                ("pulse_rate_slow", slow[1]),
                ("pulse_amplitude_index", self.pulse_amplitude_index),
            ),
            "status": _names(self.measurement_status),
            "device_status": _names(self.device_status),
        }


def parse_plx_continuous(data: bytes) -> PlxContinuousReading:
    r = _Reader(data, "PLX continuous measurement")
    flags = r.uint(1, "flags")
    spo2, pulse = _spo2_pair(r, "")
    fast = _spo2_pair(r, "fast") if flags & 0x01 else None
    slow = _spo2_pair(r, "slow") if flags & 0x02 else None
    status, device = _plx_tail(r, flags, 0x04)
    pai = (
        Quantity(Measure.PULSE_AMPLITUDE_INDEX, r.sfloat("pulse amplitude index"), "%")
        if flags & 0x10
        else None
    )
    return PlxContinuousReading(spo2, pulse, fast, slow, status, device, pai)


@dataclass(frozen=True)
class WeightReading:
    weight: Quantity
    time: dt.datetime | None
    user_id: int | None  # 0xFF: unknown user
    bmi: Quantity | None
    height: Quantity | None

    kind = "weight"

    def quantities(self) -> list[Quantity]:
        return [q for q in (self.weight, self.bmi, self.height) if q is not None]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "time": _time_text(self.time),
            "values": _values(("weight", self.weight), ("bmi", self.bmi), ("height", self.height)),
            "user": self.user_id,
        }


WEIGHT_UNSUCCESSFUL = 0xFFFF  # the Weight Scale service's "measurement unsuccessful"


def parse_weight(data: bytes) -> WeightReading:
    r = _Reader(data, "weight measurement")
    flags = r.uint(1, "flags")
    imperial = bool(flags & 0x01)
    raw = r.uint(2, "weight")
    # Resolution 0.005 kg or 0.01 lb: kept as an exact mantissa and exponent.
    number = (
        Number(0, 0, Special.NAN)
        if raw == WEIGHT_UNSUCCESSFUL
        else (Number(raw, -2) if imperial else Number(raw * 5, -3))
    )
    weight = Quantity(Measure.WEIGHT, number, "[lb_av]" if imperial else "kg")
    time = r.date_time("time stamp") if flags & 0x02 else None
    user = r.uint(1, "user id") if flags & 0x04 else None
    bmi = height = None
    if flags & 0x08:
        bmi = Quantity(Measure.BMI, Number(r.uint(2, "BMI"), -1), "kg/m2")
        raw_height = r.uint(2, "height")
        height = Quantity(
            Measure.HEIGHT,
            Number(raw_height, -1) if imperial else Number(raw_height, -3),
            "[in_i]" if imperial else "m",
        )
    return WeightReading(weight, time, user, bmi, height)


GLUCOSE_SAMPLE_TYPES = {
    1: "capillary_whole_blood",
    2: "capillary_plasma",
    3: "venous_whole_blood",
    4: "venous_plasma",
    5: "arterial_whole_blood",
    6: "arterial_plasma",
    7: "undetermined_whole_blood",
    8: "undetermined_plasma",
    9: "interstitial_fluid",
    10: "control_solution",
}
GLUCOSE_LOCATIONS = {
    1: "finger",
    2: "alternate_site_test",
    3: "earlobe",
    4: "control_solution",
    15: "not_available",
}
GLUCOSE_SENSOR_STATUS = {
    0: "battery_low",
    1: "sensor_malfunction",
    2: "sample_size_insufficient",
    3: "strip_insertion_error",
    4: "strip_type_incorrect",
    5: "result_too_high",
    6: "result_too_low",
    7: "temperature_too_high",
    8: "temperature_too_low",
    9: "read_interrupted",
    10: "device_fault",
    11: "time_fault",
}


@dataclass(frozen=True)
class GlucoseReading:
    sequence: int
    time: dt.datetime | None  # base time plus the offset
    time_offset: int | None  # minutes
    glucose: Quantity | None
    type_location: int | None  # sample type in the low nibble, location in the high one
    sensor_status: StatusBits | None
    context_follows: bool  # a Glucose Measurement Context (0x2A34) with this sequence follows

    kind = "glucose"

    @property
    def sample_type(self) -> str | None:
        if self.type_location is None:
            return None
        return GLUCOSE_SAMPLE_TYPES.get(self.type_location & 0x0F, "reserved")

    @property
    def sample_location(self) -> str | None:
        if self.type_location is None:
            return None
        return GLUCOSE_LOCATIONS.get(self.type_location >> 4, "reserved")

    def quantities(self) -> list[Quantity]:
        return [self.glucose] if self.glucose else []

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "time": _time_text(self.time),
            "values": _values(("glucose", self.glucose)),
            "sequence": self.sequence,
            "time_offset": self.time_offset,
            "sample_type": self.sample_type,
            "sample_location": self.sample_location,
            "status": _names(self.sensor_status),
            "context_follows": self.context_follows,
        }


def parse_glucose(data: bytes) -> GlucoseReading:
    r = _Reader(data, "glucose measurement")
    flags = r.uint(1, "flags")
    sequence = r.uint(2, "sequence number")
    time = r.date_time("base time")
    offset = r.sint(2, "time offset") if flags & 0x01 else None
    if time is not None and offset is not None:
        time += dt.timedelta(minutes=offset)
    glucose = type_location = None
    if flags & 0x02:
        unit = "mol/L" if flags & 0x04 else "kg/L"
        glucose = Quantity(Measure.GLUCOSE, r.sfloat("glucose concentration"), unit)
        type_location = r.uint(1, "type and sample location")
    status = _bits(r.uint(2, "sensor status"), GLUCOSE_SENSOR_STATUS) if flags & 0x08 else None
    return GlucoseReading(
        sequence, time, offset, glucose, type_location, status, bool(flags & 0x10)
    )


@dataclass(frozen=True)
class Amount:
    """A value shown with its unit and never recorded (no code of the record's)."""

    number: Number
    unit: str

    def as_dict(self) -> dict[str, str]:
        return {"value": self.number.text, "unit": self.unit}


def _shown(*amounts: tuple[str, Amount | Quantity | None]) -> dict[str, dict[str, str]]:
    return {key: a.as_dict() for key, a in amounts if a is not None}


@dataclass(frozen=True)
class IntermediateCuffPressureReading:
    """The cuff's pressure while it inflates or deflates (Blood Pressure service, 0x2A36).

    The Blood Pressure Measurement's layout, the current cuff pressure in the
    systolic field (diastolic and mean are NaN, and ignored). Shown live, never
    recorded: ``quantities`` is empty.
    """

    cuff_pressure: Amount
    time: dt.datetime | None
    pulse_rate: Quantity | None
    user_id: int | None
    status: StatusBits | None

    kind = "intermediate_cuff_pressure"

    def quantities(self) -> list[Quantity]:
        return []

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "time": _time_text(self.time),
            "values": _shown(
                ("cuff_pressure", self.cuff_pressure), ("pulse_rate", self.pulse_rate)
            ),
            "user": self.user_id,
            "status": _names(self.status),
        }


def parse_intermediate_cuff_pressure(data: bytes) -> IntermediateCuffPressureReading:
    full = parse_blood_pressure(data)
    cuff = Amount(full.systolic.number, full.systolic.unit)
    return IntermediateCuffPressureReading(
        cuff, full.time, full.pulse_rate, full.user_id, full.status
    )


@dataclass(frozen=True)
class IntermediateTemperatureReading:
    """The thermometer's value while it settles (0x2A1E, the Temperature Measurement's
    layout). Shown live, never recorded."""

    temperature: Amount
    time: dt.datetime | None
    site: str | None

    kind = "intermediate_temperature"

    def quantities(self) -> list[Quantity]:
        return []

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "time": _time_text(self.time),
            "values": _shown(("temperature", self.temperature)),
            "site": self.site,
        }


def parse_intermediate_temperature(data: bytes) -> IntermediateTemperatureReading:
    full = parse_temperature(data)
    value = Amount(full.temperature.number, full.temperature.unit)
    return IntermediateTemperatureReading(value, full.time, full.site)


GLUCOSE_CARBOHYDRATES = {
    1: "breakfast",
    2: "lunch",
    3: "dinner",
    4: "snack",
    5: "drink",
    6: "supper",
    7: "brunch",
}
GLUCOSE_MEALS = {1: "preprandial", 2: "postprandial", 3: "fasting", 4: "casual", 5: "bedtime"}
GLUCOSE_TESTERS = {1: "self", 2: "health_care_professional", 3: "lab_test", 15: "not_available"}
GLUCOSE_HEALTH = {
    1: "minor_health_issues",
    2: "major_health_issues",
    3: "during_menses",
    4: "under_stress",
    5: "no_health_issues",
    15: "not_available",
}
GLUCOSE_MEDICATIONS = {
    1: "rapid_acting_insulin",
    2: "short_acting_insulin",
    3: "intermediate_acting_insulin",
    4: "long_acting_insulin",
    5: "pre_mixed_insulin",
}
EXERCISE_DURATION_OVERRUN = 0xFFFF


def _named(table: dict[int, str], raw: int) -> str:
    return table.get(raw, "reserved")


@dataclass(frozen=True)
class GlucoseContextReading:
    """The context of the glucose measurement of the same sequence number (0x2A34).

    Flags: 0 carbohydrate (id, SFLOAT kg), 1 meal, 2 tester and health (a nibble
    each), 3 exercise (duration u16 s, 0xFFFF overrun; intensity u8 %), 4
    medication (id, SFLOAT in kg, or in litres when bit 5 is set), 6 HbA1c
    (SFLOAT %), 7 an extended flags byte follows the sequence number (its bits
    are reserved: read and ignored). Shown beside its measurement, never recorded.
    """

    sequence: int
    carbohydrate: str | None
    carbohydrate_amount: Amount | None
    meal: str | None
    tester: str | None
    health: str | None
    exercise_seconds: int | None  # None: not given; EXERCISE_DURATION_OVERRUN: overrun
    exercise_intensity: int | None  # percent
    medication: str | None
    medication_amount: Amount | None
    hba1c: Amount | None

    kind = "glucose_context"

    @property
    def time(self) -> dt.datetime | None:
        """A context has no time of its own: its measurement's (same sequence) stands."""
        return None

    def quantities(self) -> list[Quantity]:
        return []

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "time": None,
            "sequence": self.sequence,
            "values": _shown(
                ("carbohydrate", self.carbohydrate_amount),
                ("medication", self.medication_amount),
                ("hba1c", self.hba1c),
            ),
            "carbohydrate": self.carbohydrate,
            "meal": self.meal,
            "tester": self.tester,
            "health": self.health,
            "exercise_seconds": self.exercise_seconds,
            "exercise_intensity": self.exercise_intensity,
            "medication": self.medication,
        }


def parse_glucose_context(data: bytes) -> GlucoseContextReading:
    r = _Reader(data, "glucose measurement context")
    flags = r.uint(1, "flags")
    sequence = r.uint(2, "sequence number")
    if flags & 0x80:
        r.uint(1, "extended flags")
    carbohydrate = carbohydrate_amount = None
    if flags & 0x01:
        carbohydrate = _named(GLUCOSE_CARBOHYDRATES, r.uint(1, "carbohydrate id"))
        carbohydrate_amount = Amount(r.sfloat("carbohydrate"), "kg")
    meal = _named(GLUCOSE_MEALS, r.uint(1, "meal")) if flags & 0x02 else None
    tester = health = None
    if flags & 0x04:
        both = r.uint(1, "tester and health")
        tester, health = _named(GLUCOSE_TESTERS, both & 0x0F), _named(GLUCOSE_HEALTH, both >> 4)
    exercise_seconds = exercise_intensity = None
    if flags & 0x08:
        exercise_seconds = r.uint(2, "exercise duration")
        exercise_intensity = r.uint(1, "exercise intensity")
    medication = medication_amount = None
    if flags & 0x10:
        medication = _named(GLUCOSE_MEDICATIONS, r.uint(1, "medication id"))
        medication_amount = Amount(r.sfloat("medication"), "L" if flags & 0x20 else "kg")
    hba1c = Amount(r.sfloat("HbA1c"), "%") if flags & 0x40 else None
    return GlucoseContextReading(
        sequence,
        carbohydrate,
        carbohydrate_amount,
        meal,
        tester,
        health,
        exercise_seconds,
        exercise_intensity,
        medication,
        medication_amount,
        hba1c,
    )


Reading = (
    BloodPressureReading
    | TemperatureReading
    | PlxSpotCheckReading
    | PlxContinuousReading
    | WeightReading
    | GlucoseReading
    | IntermediateCuffPressureReading
    | IntermediateTemperatureReading
    | GlucoseContextReading
)
# Read and shown, never recorded (their ``quantities`` are empty).
SHOWN_ONLY = frozenset(
    {INTERMEDIATE_CUFF_PRESSURE, INTERMEDIATE_TEMPERATURE, GLUCOSE_MEASUREMENT_CONTEXT}
)

PARSERS: dict[int, Callable[[bytes], Reading]] = {
    BLOOD_PRESSURE_MEASUREMENT: parse_blood_pressure,
    TEMPERATURE_MEASUREMENT: parse_temperature,
    PLX_SPOT_CHECK_MEASUREMENT: parse_plx_spot_check,
    PLX_CONTINUOUS_MEASUREMENT: parse_plx_continuous,
    WEIGHT_MEASUREMENT: parse_weight,
    GLUCOSE_MEASUREMENT: parse_glucose,
    INTERMEDIATE_CUFF_PRESSURE: parse_intermediate_cuff_pressure,
    INTERMEDIATE_TEMPERATURE: parse_intermediate_temperature,
    GLUCOSE_MEASUREMENT_CONTEXT: parse_glucose_context,
}


def parse(characteristic: int, data: bytes) -> Reading:
    """The reading in one notification or indication of ``characteristic`` (0x2A35 …)."""
    parser = PARSERS.get(characteristic)
    if parser is None:
        raise MalformedPacket(
            Problem.UNKNOWN_CHARACTERISTIC, f"characteristic 0x{characteristic:04X} is not read"
        )
    return parser(bytes(data))


BLUETOOTH_BASE_UUID_TAIL = "-0000-1000-8000-00805f9b34fb"
MAX_VALUE_BYTES = 512  # an attribute value is at most 512 bytes (Bluetooth Core, ATT)
_HEX_DIGITS = frozenset("0123456789abcdef")


def characteristic_number(name: str | int) -> int:
    """0x2A35 from 0x2A35, "2a35", "0x2A35" or "00002a35-0000-1000-8000-00805f9b34fb"."""
    if isinstance(name, int):
        return name
    text = name.strip().lower()
    if len(text) == 36 and text.startswith("0000") and text.endswith(BLUETOOTH_BASE_UUID_TAIL):
        text = text[4:8]
    text = text.removeprefix("0x")
    if not 1 <= len(text) <= 4 or not set(text) <= _HEX_DIGITS:
        raise MalformedPacket(Problem.NOT_BYTES, "not a 16-bit Bluetooth characteristic")
    return int(text, 16)


def parse_sent(characteristic: str | int, hex_bytes: str) -> Reading:
    """A reading posted by a browser or a device hub: the characteristic and the bytes in hex.

    The server parses the device's own bytes again rather than trusting a parsed reading.
    """
    text = hex_bytes.replace(" ", "").lower()
    if len(text) > 2 * MAX_VALUE_BYTES or len(text) % 2 or not set(text) <= _HEX_DIGITS:
        raise MalformedPacket(Problem.NOT_BYTES, "not hexadecimal bytes")
    return parse(characteristic_number(characteristic), bytes.fromhex(text))


# --- FHIR: a reading as Observations ------------------------------------------------------------

LOINC_SYSTEM = "http://loinc.org"
MDC_SYSTEM = "urn:iso:std:iso:11073:10101"
UCUM_SYSTEM = "http://unitsofmeasure.org"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"

# What FHIR says instead of a value (data-absent-reason); NRes and reserved are device errors.
DATA_ABSENT = {
    Special.NAN: "not-a-number",
    Special.NRES: "error",
    Special.POSITIVE_INFINITY: "positive-infinity",
    Special.NEGATIVE_INFINITY: "negative-infinity",
    Special.RESERVED: "error",
}
UNIT_DISPLAY = {"mm[Hg]": "mmHg", "Cel": "°C", "kg/m2": "kg/m²"}


def _codeable(coding: Coding, *extra_loinc: str) -> dict[str, Any]:
    codings = [
        {"system": LOINC_SYSTEM, "code": code, "display": coding.display}
        for code in (coding.loinc, *extra_loinc)
        if code
    ]
    if coding.mdc:
        codings.append({"system": MDC_SYSTEM, "code": coding.mdc})
    return {"coding": codings, "text": coding.display}


def fhir_value(quantity: Quantity) -> dict[str, Any]:
    """``valueQuantity`` in the record's unit, or ``dataAbsentReason`` for a special value."""
    stored = quantity.stored()
    if stored.special is not None:
        reason = DATA_ABSENT[stored.special]
        return {"dataAbsentReason": {"coding": [{"system": DATA_ABSENT_SYSTEM, "code": reason}]}}
    return {
        "valueQuantity": {
            "value": stored.value,
            "unit": UNIT_DISPLAY.get(stored.unit, stored.unit),
            "system": UCUM_SYSTEM,
            "code": stored.unit,
        }
    }


DEVICE_CLOCK_AHEAD = dt.timedelta(minutes=5)
DEVICE_CLOCK_MAX_AGE = dt.timedelta(days=7)


def effective_time(
    reading: Reading, *, tz: dt.tzinfo, received: dt.datetime | None = None
) -> dt.datetime | None:
    """When the measurement was taken (aware), or None when neither side knows.

    The device's clock has no zone: it is read in the zone of the place of care. It is
    trusted unless the oximeter says it is not set, the glucose meter reports a time
    fault, or, when the time of receipt is known, it lies ahead of it or more than
    a week before it (a monitor whose batteries were changed restarts in 2000 or so):
    then the time of receipt stands in.
    """
    time = None if reading.time is None else reading.time.replace(tzinfo=tz)
    if isinstance(reading, PlxSpotCheckReading) and reading.clock_not_set:
        time = None
    if isinstance(reading, GlucoseReading) and reading.sensor_status is not None:
        time = None if "time_fault" in reading.sensor_status.names else time
    if received is not None and (
        time is None or not received - DEVICE_CLOCK_MAX_AGE <= time <= received + DEVICE_CLOCK_AHEAD
    ):
        return received
    return time


def _observation(code: dict[str, Any], category: str, time: dt.datetime | None) -> dict[str, Any]:
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": category}]}],
        "code": code,
    }
    if time is not None:
        observation["effectiveDateTime"] = time.isoformat()
    return observation


def observations(
    reading: Reading, *, tz: dt.tzinfo, received: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """The reading as FHIR R4 Observation dicts (HL7 PHD IG's shape), values in stored units.

    Only what the reading says: the caller adds subject, encounter, performer, device.
    ``effectiveDateTime`` is ``effective_time()`` (absent when unknown). Values are
    ``Decimal``s, exact. The blood pressure is one panel (85354-9) with its components;
    every other measure is an Observation of its own. Measures without a LOINC code (the
    pulse amplitude index) and the PLX fast and slow averages stay out.
    """
    time = effective_time(reading, tz=tz, received=received)
    if isinstance(reading, BloodPressureReading):
        panel = _observation(_codeable(BLOOD_PRESSURE_PANEL), "vital-signs", time)
        panel["component"] = [
            {"code": _codeable(q.coding), **fhir_value(q)}
            for q in (reading.systolic, reading.diastolic, reading.mean_arterial)
        ]
        singles = [reading.pulse_rate] if reading.pulse_rate else []
        return [panel, *(_single(q, time) for q in singles)]
    return [_single(q, time) for q in reading.quantities() if q.coding.loinc]


def _single(quantity: Quantity, time: dt.datetime | None) -> dict[str, Any]:
    extra = (SPO2_EXTRA_LOINC,) if quantity.measure is Measure.SPO2 else ()
    category = "laboratory" if quantity.measure is Measure.GLUCOSE else "vital-signs"
    observation = _observation(_codeable(quantity.coding, *extra), category, time)
    observation.update(fhir_value(quantity))
    return observation
