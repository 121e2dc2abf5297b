"""Readings as a person reads them: the measurement's French name, the value with its unit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import number_format

from maillage.measurements.codes import CODES
from maillage.measurements.models import Observation

# UCUM codes as written on a screen.
UNIT_SHOWN = {"mm[Hg]": "mmHg", "Cel": "°C", "[degF]": "°F", "/min": "/min", "[lb_av]": "lb"}


@dataclass(frozen=True)
class ReadingRow:
    reading: Observation
    label: str
    value: str


def _number(text: Decimal | str) -> str:
    exact = Decimal(text).normalize()
    places = max(0, -exact.as_tuple().exponent)  # type: ignore[operator]
    return number_format(exact, decimal_pos=places)


def shown_unit(unit: str) -> str:
    return UNIT_SHOWN.get(unit, unit)


def value_text(reading: Observation) -> str:
    """``96 %``, ``142/88 mmHg`` (systolic over diastolic, as on a monitor)."""
    if reading.value is not None:
        return f"{_number(reading.value)} {shown_unit(reading.unit)}".strip()
    parts = {c["code"]: c for c in reading.components}
    systolic, diastolic = parts.get("8480-6"), parts.get("8462-4")
    if systolic is not None and diastolic is not None:
        unit = shown_unit(systolic["unit"])
        return f"{_number(systolic['value'])}/{_number(diastolic['value'])} {unit}"
    return " · ".join(f"{_number(c['value'])} {shown_unit(c['unit'])}" for c in parts.values())


def rows(readings: Iterable[Observation]) -> list[ReadingRow]:
    out = []
    for reading in readings:
        code = CODES.get(reading.code)
        label = str(code.label).capitalize() if code is not None else reading.code
        out.append(ReadingRow(reading, label, value_text(reading)))
    return out
