"""The matricule INS and identity status, without Django.

Sources (see docs/glossary.md and ../shared/STANDARDS.md):
- décret 82-103 art. 4 and the INSEE NIR schema: 13 characters (sex 1, year 2,
  month 2, place of birth 5, order 3) and a 2-digit key,
  key = 97 - (number mod 97); for Corsica 2A counts as 19 and 2B as 18.
- Référentiel national d'identitovigilance (RNIV): statuses PROV, RECUP, VALI,
  QUAL; a doubtful or fictitious identity stays provisional.

Whether a matricule is a NIR or a NIA is said by the source that gave it (the
INSi teleservice answers with the OID); it is not derived from its digits.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s.\-_]")
# First digit: 1/2 (NIR), 3/4 (older provisional registrations), 7/8
# (temporary numbers). Odd means male, even female.
_SEX_DIGITS = "123478"


class MatriculeProblem(enum.Enum):
    LENGTH = "length"
    CHARACTERS = "characters"
    SEX = "sex"
    MONTH = "month"
    PLACE = "place"
    ORDER = "order"
    KEY = "key"


class InvalidMatricule(ValueError):
    def __init__(self, problem: MatriculeProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


class TraitMismatch(enum.Enum):
    SEX = "sex"
    YEAR = "year"
    MONTH = "month"


class Sex(enum.StrEnum):
    MALE = "M"
    FEMALE = "F"


class IdentityStatus(enum.StrEnum):
    PROVISIONAL = "PROV"
    RETRIEVED = "RECUP"
    VALIDATED = "VALI"
    QUALIFIED = "QUAL"


@dataclass(frozen=True)
class Matricule:
    """A checked matricule INS: 13 characters and a 2-digit key."""

    value: str

    @property
    def body(self) -> str:
        return self.value[:13]

    @property
    def key(self) -> str:
        return self.value[13:]

    @property
    def sex(self) -> Sex:
        return Sex.MALE if int(self.value[0]) % 2 == 1 else Sex.FEMALE

    @property
    def year_digits(self) -> str:
        return self.value[1:3]

    @property
    def month_digits(self) -> str:
        return self.value[3:5]

    @property
    def place(self) -> str:
        return self.value[5:10]

    def formatted(self) -> str:
        """The grouping printed on the carte Vitale: 1 84 12 75 108 123 45."""
        v = self.value
        return f"{v[0]} {v[1:3]} {v[3:5]} {v[5:7]} {v[7:10]} {v[10:13]} {v[13:]}"


def normalise_matricule(raw: str) -> str:
    return _SEPARATORS.sub("", raw).upper()


def matricule_key(body: str) -> str:
    """The 2-digit key of a 13-character body (Corsica letters replaced)."""
    digits = body.upper().replace("2A", "19", 1).replace("2B", "18", 1)
    return f"{97 - int(digits) % 97:02d}"


def _check_place(place: str) -> None:
    dept = place[:2]
    if dept in {"2A", "2B"}:
        if not place[2:].isdigit():
            raise InvalidMatricule(MatriculeProblem.PLACE)
        return
    if not place.isdigit() or dept == "00":
        raise InvalidMatricule(MatriculeProblem.PLACE)


def _month_is_allowed(month: int) -> bool:
    # 01-12; 20-42 and 50-99 are used when the civil-status record gives no month.
    return 1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99


def parse_matricule(raw: str) -> Matricule:
    """Check a matricule INS and return it normalised, or raise InvalidMatricule."""
    value = normalise_matricule(raw)
    if len(value) != 15:
        raise InvalidMatricule(MatriculeProblem.LENGTH)
    body, key = value[:13], value[13:]
    if not (body[:5].isdigit() and body[10:].isdigit() and key.isdigit()):
        raise InvalidMatricule(MatriculeProblem.CHARACTERS)
    if body[0] not in _SEX_DIGITS:
        raise InvalidMatricule(MatriculeProblem.SEX)
    if not _month_is_allowed(int(body[3:5])):
        raise InvalidMatricule(MatriculeProblem.MONTH)
    _check_place(body[5:10])
    if body[10:13] == "000":
        raise InvalidMatricule(MatriculeProblem.ORDER)
    if matricule_key(body) != key:
        raise InvalidMatricule(MatriculeProblem.KEY)
    return Matricule(value)


def trait_mismatches(matricule: Matricule, sex: str, birth_date: dt.date) -> list[TraitMismatch]:
    """Where the matricule contradicts the strict traits typed beside it."""
    problems = []
    if matricule.sex != sex:
        problems.append(TraitMismatch.SEX)
    if int(matricule.year_digits) != birth_date.year % 100:
        problems.append(TraitMismatch.YEAR)
    month = int(matricule.month_digits)
    if 1 <= month <= 12 and month != birth_date.month:
        problems.append(TraitMismatch.MONTH)
    return problems


def identity_status(
    *, retrieved_from_insi: bool, checked_on_document: bool, doubtful: bool, fictitious: bool
) -> IdentityStatus:
    """The RNIV status from the facts recorded about an identity.

    RECUP: returned by the INSi teleservice, not checked on a document.
    VALI: checked on a high-trust document, not from INSi. QUAL: both.
    A doubtful or fictitious identity stays provisional whatever else is known.
    """
    if doubtful or fictitious:
        return IdentityStatus.PROVISIONAL
    if retrieved_from_insi and checked_on_document:
        return IdentityStatus.QUALIFIED
    if retrieved_from_insi:
        return IdentityStatus.RETRIEVED
    if checked_on_document:
        return IdentityStatus.VALIDATED
    return IdentityStatus.PROVISIONAL


def may_transmit_matricule(status: IdentityStatus) -> bool:
    """RNIV: the matricule INS is referenced and transmitted only when qualified."""
    return status is IdentityStatus.QUALIFIED
