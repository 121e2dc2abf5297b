"""The readings the platform stores, with their codes, units and possible ranges.

One small table (STANDARDS.md, "FHIR R4 mappings" and the HL7 Personal Health
Device IG): each kind of reading has its LOINC code, its MDC code (IEEE
11073-10101) when a device sends it, its FHIR category, the UCUM units it may
come in and, for each unit, the range a human body can physically show.
A value outside that range is a wrong unit or a broken device, not a
finding: it is refused, where a clinically alarming value is kept.

The Bluetooth parsers (``maillage.lib.bluetooth``) hold their own table of
what each characteristic carries (``CODES``, ``STORED_UNITS``); the two are
to be unified. This one accepts every code and stored unit that one emits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

LOINC = "http://loinc.org"
MDC = "urn:iso:std:iso:11073:10101"
UCUM = "http://unitsofmeasure.org"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"


class Category:
    VITAL_SIGNS = "vital-signs"
    LABORATORY = "laboratory"
    EXAM = "exam"


CATEGORIES = frozenset({Category.VITAL_SIGNS, Category.LABORATORY, Category.EXAM})


@dataclass(frozen=True)
class Span:
    """What a body can physically show, in one unit (both ends included)."""

    low: Decimal
    high: Decimal

    def holds(self, value: Decimal) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class Code:
    loinc: str
    mdc: str
    label: Promise
    # UCUM unit -> the range possible in it.
    units: Mapping[str, Span]
    category: str = Category.VITAL_SIGNS
    # A LOINC code sent beside (SpO2: 59408-5, by pulse oximetry).
    also: tuple[str, ...] = ()

    @property
    def default_unit(self) -> str:
        return next(iter(self.units))


@dataclass(frozen=True)
class Panel:
    """A reading made of components (blood pressure): no value of its own."""

    loinc: str
    mdc: str
    label: Promise
    components: tuple[Code, ...]
    # Components a reading must have (the mean arterial pressure is optional).
    required: tuple[str, ...]
    category: str = Category.VITAL_SIGNS


def _span(low: str, high: str) -> Span:
    return Span(Decimal(low), Decimal(high))


_PRESSURE = {"mm[Hg]": _span("10", "350"), "kPa": _span("1.3", "46.7")}
SYSTOLIC = Code("8480-6", "150021", _("systolic"), _PRESSURE)
DIASTOLIC = Code("8462-4", "150022", _("diastolic"), _PRESSURE)
MEAN_PRESSURE = Code("8478-0", "150023", _("mean arterial pressure"), _PRESSURE)
BLOOD_PRESSURE = Panel(
    "85354-9",
    "150020",
    _("blood pressure"),
    (SYSTOLIC, DIASTOLIC, MEAN_PRESSURE),
    required=(SYSTOLIC.loinc, DIASTOLIC.loinc),
)
HEART_RATE = Code("8867-4", "149530", _("heart rate"), {"/min": _span("10", "350")})
SPO2 = Code(
    "2708-6", "150456", _("oxygen saturation"), {"%": _span("30", "100")}, also=("59408-5",)
)
TEMPERATURE = Code(
    "8310-5",
    "150364",
    _("body temperature"),
    {"Cel": _span("25", "45"), "[degF]": _span("77", "113")},
)
WEIGHT = Code(
    "29463-7",
    "188736",
    _("body weight"),
    {"kg": _span("0.3", "400"), "[lb_av]": _span("0.6", "880")},
)
GLUCOSE = Code(
    "2345-7",
    "160368",
    _("blood glucose"),
    {"mg/dL": _span("5", "2000"), "mmol/L": _span("0.3", "111"), "g/L": _span("0.05", "20")},
    category=Category.LABORATORY,
)
# Sent by weight scales beside the weight (the Bluetooth parser's table).
HEIGHT = Code(
    "8302-2",
    "188740",
    _("body height"),
    {"cm": _span("20", "280"), "m": _span("0.2", "2.8"), "[in_i]": _span("8", "110")},
)
BMI = Code("39156-5", "188752", _("body mass index"), {"kg/m2": _span("5", "150")})
HBA1C = Code("4548-4", "", _("HbA1c"), {"%": _span("2", "25")}, category=Category.LABORATORY)

CODES: Mapping[str, Code | Panel] = {
    c.loinc: c
    for c in (BLOOD_PRESSURE, HEART_RATE, SPO2, TEMPERATURE, WEIGHT, HEIGHT, BMI, GLUCOSE, HBA1C)
}
# An MDC code names the same reading (a device hub may send only that).
BY_MDC: Mapping[str, Code | Panel] = {c.mdc: c for c in CODES.values() if c.mdc}
COMPONENTS: Mapping[str, Code] = {c.loinc: c for c in BLOOD_PRESSURE.components}
COMPONENTS_BY_MDC: Mapping[str, Code] = {c.mdc: c for c in BLOOD_PRESSURE.components}
