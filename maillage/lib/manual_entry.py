"""Readings typed by hand: which units each measure accepts and which values are believable.

Where the browser has no Web Bluetooth (Firefox, Safari) or the device is
proprietary, the assistant types the value she reads. The rules are data
(``RULES``): the units accepted, the range outside which a value cannot be a
living patient's (refused, with a French message saying why) and the usual
range outside which it is possible but more likely a typo (accepted with a
warning to check it). Ranges are in the record's unit (``STORED_UNITS`` of
``bluetooth``); a value typed in another unit is converted first, so 98,6 °F and
37 °C meet the same rule. The messages go through Django's translation
machinery; the rest is plain Python.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from maillage.lib.bluetooth import STORED_UNITS, Measure, convert


@dataclass(frozen=True)
class Rule:
    units: tuple[str, ...]  # UCUM; the first is the record's unit
    possible: tuple[Decimal, Decimal]  # inclusive; outside: refused
    usual: tuple[Decimal, Decimal]  # inclusive; outside: a warning
    example: Decimal  # shown when the entry is not a number


def _range(low: str, high: str) -> tuple[Decimal, Decimal]:
    return Decimal(low), Decimal(high)


# cmHg: French patients and doctors say "14/8".
PRESSURE_UNITS = ("mm[Hg]", "cm[Hg]", "kPa")

# Possible ranges: clinical extremes, generous on purpose (a refusal must mean "this cannot
# be", never "this is alarming"), and never wider than what maillage.measurements.codes
# stores. The usual ranges only ask to look again before saving.
RULES: dict[Measure, Rule] = {
    Measure.SYSTOLIC: Rule(PRESSURE_UNITS, _range("30", "300"), _range("70", "220"), Decimal(120)),
    Measure.DIASTOLIC: Rule(PRESSURE_UNITS, _range("10", "200"), _range("40", "130"), Decimal(80)),
    Measure.MEAN_ARTERIAL: Rule(
        PRESSURE_UNITS, _range("20", "250"), _range("50", "160"), Decimal(93)
    ),
    Measure.PULSE_RATE: Rule(("/min",), _range("15", "350"), _range("40", "180"), Decimal(72)),
    Measure.SPO2: Rule(("%",), _range("30", "100"), _range("85", "100"), Decimal(97)),
    Measure.TEMPERATURE: Rule(
        ("Cel", "[degF]"), _range("25", "45"), _range("35", "41"), Decimal("36.8")
    ),
    Measure.WEIGHT: Rule(
        ("kg", "g", "[lb_av]"), _range("0.3", "400"), _range("2", "250"), Decimal("70.5")
    ),
    Measure.HEIGHT: Rule(
        ("cm", "m", "[in_i]"), _range("25", "275"), _range("45", "220"), Decimal(170)
    ),
    Measure.BMI: Rule(("kg/m2",), _range("5", "150"), _range("13", "60"), Decimal("24.2")),
    Measure.GLUCOSE: Rule(
        ("mg/dL", "g/L", "mmol/L"), _range("5", "2000"), _range("40", "500"), Decimal(95)
    ),
}

UNIT_LABELS = {
    "mm[Hg]": "mmHg",
    "cm[Hg]": "cmHg",
    "kPa": "kPa",
    "/min": "/min",
    "%": "%",
    "Cel": "°C",
    "[degF]": "°F",
    "kg": "kg",
    "g": "g",
    "[lb_av]": "lb",
    "cm": "cm",
    "m": "m",
    "[in_i]": "in",
    "kg/m2": "kg/m²",
    "mg/dL": "mg/dL",
    "g/L": "g/L",
    "mmol/L": "mmol/L",
}

MEASURE_NAMES: dict[Measure, Promise] = {
    Measure.SYSTOLIC: gettext_lazy("the systolic pressure"),
    Measure.DIASTOLIC: gettext_lazy("the diastolic pressure"),
    Measure.MEAN_ARTERIAL: gettext_lazy("the mean arterial pressure"),
    Measure.PULSE_RATE: gettext_lazy("the heart rate"),
    Measure.SPO2: gettext_lazy("the oxygen saturation"),
    Measure.TEMPERATURE: gettext_lazy("the temperature"),
    Measure.WEIGHT: gettext_lazy("the weight"),
    Measure.HEIGHT: gettext_lazy("the height"),
    Measure.BMI: gettext_lazy("the body mass index"),
    Measure.GLUCOSE: gettext_lazy("the blood glucose"),
}


class Refusal(enum.StrEnum):
    NOT_A_NUMBER = "not_a_number"
    UNIT = "unit"
    IMPOSSIBLE = "impossible"
    NOT_ENTERED_BY_HAND = "not_entered_by_hand"
    DIASTOLIC_NOT_BELOW_SYSTOLIC = "diastolic_not_below_systolic"


class EntryRefused(ValueError):
    """The typed value cannot be recorded; ``message`` says why, in the user's language."""

    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.message = message


@dataclass(frozen=True)
class CheckedEntry:
    measure: Measure
    value: Decimal  # in ``unit``, the record's
    unit: str
    entered_value: Decimal
    entered_unit: str
    warning: str | None  # a possible but unusual value: ask to check before saving


MAX_TYPED_CHARACTERS = 16  # no reading needs more; a longer "number" is a slip or an attack


def parse_decimal(text: str) -> Decimal | None:
    """A typed number: digits, one decimal comma or point, a leading minus; else None.

    One pass over the characters: no exponent, no "NaN", no thousands separators.
    """
    text = text.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if len(text) > MAX_TYPED_CHARACTERS:
        return None
    body = text[1:] if text.startswith("-") else text
    separators = body.count(",") + body.count(".")
    digits = sum(c in "0123456789" for c in body)
    if not body or digits == 0 or separators > 1 or digits + separators != len(body):
        return None
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - ruled out by the scan above
        return None


def _plain_number(value: Decimal) -> bool:
    """Finite, and of a size a typed reading can have (a Decimal may come from elsewhere)."""
    return (
        value.is_finite()
        and len(value.as_tuple().digits) <= MAX_TYPED_CHARACTERS
        and abs(value.adjusted()) <= MAX_TYPED_CHARACTERS
    )


def _label(unit: str) -> str:
    return UNIT_LABELS.get(unit, unit)


def _number(value: Decimal) -> str:
    """In the user's language's notation (36,6 in French), without trailing zeros."""
    return number_format(Decimal(format(value.normalize(), "f")))


def check_entry(measure: Measure, value: str | Decimal, unit: str) -> CheckedEntry:
    """Check one typed value; return it in the record's unit, with a warning when unusual."""
    rule = RULES.get(measure)
    if rule is None:
        raise EntryRefused(
            Refusal.NOT_ENTERED_BY_HAND,
            _("This measure is not entered by hand."),
        )
    name = MEASURE_NAMES[measure]
    entered = value if isinstance(value, Decimal) else parse_decimal(value)
    if entered is None or not _plain_number(entered):
        raise EntryRefused(
            Refusal.NOT_A_NUMBER,
            _("Enter a number for %(measure)s, for example %(example)s.")
            % {"measure": name, "example": _number(rule.example)},
        )
    if unit not in rule.units:
        raise EntryRefused(
            Refusal.UNIT,
            _("This unit is not accepted for %(measure)s: use %(units)s.")
            % {"measure": name, "units": ", ".join(_label(u) for u in rule.units)},
        )
    stored_unit = STORED_UNITS[measure]
    stored = convert(entered, unit, stored_unit)
    facts = {
        "measure": name,
        "value": _number(entered),
        "unit": _label(unit),
        "stored_unit": _label(stored_unit),
    }
    low, high = rule.possible
    if not low <= stored <= high:
        raise EntryRefused(
            Refusal.IMPOSSIBLE,
            _(
                "%(value)s %(unit)s is not possible for %(measure)s: check the entry "
                "(between %(low)s and %(high)s %(stored_unit)s)."
            )
            % {**facts, "low": _number(low), "high": _number(high)},
        )
    low, high = rule.usual
    warning = None
    if not low <= stored <= high:
        warning = _(
            "%(value)s %(unit)s is unusual for %(measure)s (usually between %(low)s and "
            "%(high)s %(stored_unit)s): check it before saving."
        ) % {**facts, "low": _number(low), "high": _number(high)}
    return CheckedEntry(measure, stored, stored_unit, entered, unit, warning)


def check_blood_pressure(
    systolic: str | Decimal, diastolic: str | Decimal, unit: str
) -> tuple[CheckedEntry, CheckedEntry]:
    """Both pressures of one measurement, the diastolic below the systolic."""
    high = check_entry(Measure.SYSTOLIC, systolic, unit)
    low = check_entry(Measure.DIASTOLIC, diastolic, unit)
    if low.value >= high.value:
        raise EntryRefused(
            Refusal.DIASTOLIC_NOT_BELOW_SYSTOLIC,
            _("The diastolic pressure must be lower than the systolic pressure."),
        )
    return high, low
