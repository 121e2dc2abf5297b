"""Identity input and its rules, shared by the pages and the FHIR API.

Rule messages are in the translation catalogue so that the same French
sentence reaches a secretary's form and an API client's OperationOutcome.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.lib.ins import (
    InvalidMatricule,
    MatriculeProblem,
    TraitMismatch,
    parse_matricule,
    trait_mismatches,
)
from maillage.lib.names import identity_match_key, normalise_name
from maillage.policy.relations import IdentityEvidence

if TYPE_CHECKING:
    from maillage.directory.models import Professional
    from maillage.patients.details import PatientDetails
    from maillage.territory.models import Commune

_BIRTHPLACE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
EARLIEST_BIRTH = dt.date(1890, 1, 1)


@dataclass
class IdentityInput:
    """Everything a form or a FHIR Patient can say about an identity."""

    birth_name: str
    first_birth_given_name: str
    birth_given_names: str
    birth_date: dt.date
    sex: str
    birthplace_code: str = ""
    used_name: str = ""
    used_given_name: str = ""
    ins_matricule: str | None = None
    ins_kind: str = "NIR"
    retrieved_from_insi: bool = False
    identity_document: str = ""
    doubtful: bool = False
    fictitious: bool = False
    commune: Commune | None = None
    address_line: str = ""
    phone: str = ""
    email: str = ""
    treating_doctor: Professional | None = None
    # What a FHIR client or an import sent beyond the identity; None (a page)
    # leaves what the record holds as it is.
    details: PatientDetails | None = None

    def evidence(self) -> IdentityEvidence:
        return IdentityEvidence(
            identity_match_key(self.birth_name, self.first_birth_given_name, self.birth_date),
            self.ins_matricule,
        )

    def as_model_fields(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in IDENTITY_FIELDS}


# The Patient fields an identity form or resource sets, in one list.
IDENTITY_FIELDS = tuple(f.name for f in fields(IdentityInput) if f.name != "details")


@dataclass(frozen=True)
class IdentityProblem:
    field: str
    message: str


def matricule_message(problem: MatriculeProblem) -> str:
    return {
        MatriculeProblem.LENGTH: _(
            "A matricule INS has 15 characters: 13 for the number and 2 for the key."
        ),
        MatriculeProblem.CHARACTERS: _(
            "A matricule INS has digits only, except 2A or 2B for births in Corsica."
        ),
        MatriculeProblem.SEX: _("The first digit of a matricule INS gives the sex: 1 or 2."),
        MatriculeProblem.MONTH: _("The month of birth in this matricule INS does not exist."),
        MatriculeProblem.PLACE: _("The place of birth in this matricule INS is not valid."),
        MatriculeProblem.ORDER: _("The order number in this matricule INS cannot be 000."),
        MatriculeProblem.KEY: _(
            "The key of this matricule INS (its last 2 digits) does not match the number. "
            "Check it against the carte Vitale or the INSi answer."
        ),
    }[problem]


def clean_matricule(raw: str) -> str | None:
    """The normalised matricule, None when empty; raises InvalidMatricule."""
    if not raw.strip():
        return None
    return parse_matricule(raw).value


def identity_problems(data: IdentityInput) -> list[IdentityProblem]:
    """What is wrong with an identity beyond each field's own format."""
    problems: list[IdentityProblem] = []
    today = timezone.localdate()
    if data.birth_date > today:
        problems.append(IdentityProblem("birth_date", _("The birth date is in the future.")))
    elif data.birth_date < EARLIEST_BIRTH:
        problems.append(IdentityProblem("birth_date", _("The birth date is before 1890.")))
    given = normalise_name(data.birth_given_names).split()
    first = normalise_name(data.first_birth_given_name).split()
    if given and given[: len(first)] != first:
        problems.append(
            IdentityProblem(
                "birth_given_names",
                _("The list of birth given names must start with the first birth given name."),
            )
        )
    if data.birthplace_code and not _BIRTHPLACE.match(data.birthplace_code):
        problems.append(
            IdentityProblem(
                "birthplace_code",
                _(
                    "The place of birth is an INSEE code of 5 characters (99 and the country "
                    "code if born abroad)."
                ),
            )
        )
    if data.ins_matricule:
        try:
            matricule = parse_matricule(data.ins_matricule)
        except InvalidMatricule as error:
            problems.append(IdentityProblem("ins_matricule", matricule_message(error.problem)))
        else:
            problems += _mismatch_problems(trait_mismatches(matricule, data.sex, data.birth_date))
    elif data.retrieved_from_insi:
        problems.append(
            IdentityProblem(
                "ins_matricule",
                _("An identity returned by the INSi teleservice comes with its matricule INS."),
            )
        )
    return problems


def _mismatch_problems(mismatches: list[TraitMismatch]) -> list[IdentityProblem]:
    messages = {
        TraitMismatch.SEX: ("sex", _("The matricule INS gives the other sex.")),
        TraitMismatch.YEAR: ("birth_date", _("The matricule INS gives another year of birth.")),
        TraitMismatch.MONTH: ("birth_date", _("The matricule INS gives another month of birth.")),
    }
    return [IdentityProblem(*messages[m]) for m in mismatches]
