"""Check digits of French professional and structure identifiers.

- RPPS: 11 digits; the last is commonly documented as a Luhn check digit
  (no official ANS text found; see STANDARDS.md).
- FINESS: 9 characters, département (2 characters, 2A/2B for Corsica) then
  6 digits then a key; the key is documented in FINESS extracts as a Luhn
  digit over the first 8 characters. For Corsica we count 2A and 2B as "20";
  that substitution is our assumption, isolated here and tested.
- SIRET: 14 digits, Luhn, except La Poste's establishments (SIREN 356000000)
  whose digits sum to a multiple of 5.
"""

from __future__ import annotations

import enum
import re

_SPACES = re.compile(r"\s")
LA_POSTE_SIREN = "356000000"


class IdentifierProblem(enum.Enum):
    LENGTH = "length"
    CHARACTERS = "characters"
    CHECK_DIGIT = "check_digit"


class InvalidIdentifier(ValueError):
    def __init__(self, problem: IdentifierProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def luhn_sum(digits: str) -> int:
    """Luhn sum of a digit string that already ends with its check digit."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total


def is_luhn_valid(digits: str) -> bool:
    return digits.isdigit() and luhn_sum(digits) % 10 == 0


def luhn_check_digit(payload: str) -> str:
    """The digit to append to ``payload`` to make it Luhn-valid."""
    return str((10 - luhn_sum(payload + "0") % 10) % 10)


def _clean(raw: str) -> str:
    return _SPACES.sub("", raw).upper()


def parse_rpps(raw: str) -> str:
    value = _clean(raw)
    if not value.isdigit():
        raise InvalidIdentifier(IdentifierProblem.CHARACTERS)
    if len(value) != 11:
        raise InvalidIdentifier(IdentifierProblem.LENGTH)
    if not is_luhn_valid(value):
        raise InvalidIdentifier(IdentifierProblem.CHECK_DIGIT)
    return value


def _finess_digits(value: str) -> str:
    if value[:2] in {"2A", "2B"}:
        return "20" + value[2:]
    return value


def parse_finess(raw: str) -> str:
    value = _clean(raw)
    if len(value) != 9:
        raise InvalidIdentifier(IdentifierProblem.LENGTH)
    digits = _finess_digits(value)
    if not digits.isdigit():
        raise InvalidIdentifier(IdentifierProblem.CHARACTERS)
    if not is_luhn_valid(digits):
        raise InvalidIdentifier(IdentifierProblem.CHECK_DIGIT)
    return value


def finess_check_digit(first_eight: str) -> str:
    return luhn_check_digit(_finess_digits(first_eight.upper()))


def parse_siret(raw: str) -> str:
    value = _clean(raw)
    if not value.isdigit():
        raise InvalidIdentifier(IdentifierProblem.CHARACTERS)
    if len(value) != 14:
        raise InvalidIdentifier(IdentifierProblem.LENGTH)
    if value.startswith(LA_POSTE_SIREN):
        valid = sum(int(c) for c in value) % 5 == 0
    else:
        valid = is_luhn_valid(value)
    if not valid:
        raise InvalidIdentifier(IdentifierProblem.CHECK_DIGIT)
    return value
