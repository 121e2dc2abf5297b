"""LOINC codes: their shape and check digit, without Django.

A LOINC code is a number of one to seven digits, a hyphen and a check
digit computed with the "mod 10" algorithm of the LOINC Users' Guide, which
is Luhn's: the code with its check digit appended is Luhn-valid. Checking it
lets a typo (11488-5 for 11488-4) be refused instead of kept for ever.
"""

from __future__ import annotations

from maillage.lib.identifiers import is_luhn_valid

MAX_NUMBER_DIGITS = 7


def is_loinc_code(code: str) -> bool:
    """Whether ``code`` has LOINC's shape (``NNNNN-C``) and a matching check digit."""
    number, hyphen, check = code.partition("-")
    if not hyphen or len(check) != 1 or not 1 <= len(number) <= MAX_NUMBER_DIGITS:
        return False
    return number.isascii() and check.isascii() and is_luhn_valid(number + check)
