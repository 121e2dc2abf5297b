"""Model-field validators turning identifier problems into French messages."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from maillage.lib.identifiers import (
    IdentifierProblem,
    InvalidIdentifier,
    parse_finess,
    parse_rpps,
    parse_siret,
)

_MESSAGES = {
    "rpps": {
        IdentifierProblem.CHARACTERS: _("An RPPS number has digits only."),
        IdentifierProblem.LENGTH: _("An RPPS number has 11 digits."),
        IdentifierProblem.CHECK_DIGIT: _("This RPPS number's check digit is wrong: check it."),
    },
    "finess": {
        IdentifierProblem.CHARACTERS: _("A FINESS number has digits only (2A or 2B for Corsica)."),
        IdentifierProblem.LENGTH: _("A FINESS number has 9 characters."),
        IdentifierProblem.CHECK_DIGIT: _("This FINESS number's key is wrong: check it."),
    },
    "siret": {
        IdentifierProblem.CHARACTERS: _("A SIRET number has digits only."),
        IdentifierProblem.LENGTH: _("A SIRET number has 14 digits."),
        IdentifierProblem.CHECK_DIGIT: _("This SIRET number's check digit is wrong: check it."),
    },
}


def _check(kind: str, parse: Callable[[str], str], value: str) -> None:
    try:
        parse(value)
    except InvalidIdentifier as error:
        raise ValidationError(_MESSAGES[kind][error.problem], code=error.problem.value) from None


# Plain module-level functions, so that migrations can refer to them.
def validate_rpps(value: str) -> None:
    _check("rpps", parse_rpps, value)


def validate_finess(value: str) -> None:
    _check("finess", parse_finess, value)


def validate_siret(value: str) -> None:
    _check("siret", parse_siret, value)
