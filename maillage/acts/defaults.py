"""The billing rules and tariffs of teleconsultation a new platform starts with (STANDARDS.md).

Written by the data migration and, for tests that empty every table, by
``ensure``; an administrator changes them afterwards in the admin (a change
of convention is a new row from its date). Sources: STANDARDS.md
("Telemedicine acts"); the dates are the start of reimbursement in common
law (15 September 2018, avenant 6) and the new TCG tariff of 22 December
2024; the exact date each exception or the cap entered the convention is not
in our sources, so they all start with reimbursement: the administrator
corrects a date with a new row. TC is priced here at the GP's in-person 25 €;
a specialist's TC is their in-person tariff, to set in the admin.

The under-served communes are a starting list for the demo territory (the
east of the Cher and the Perche of Loir-et-Cher), not the ARS's decision: the
administrator loads the decision's list.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from maillage.directory.terminology import Specialty

START = dt.date(2018, 9, 15)
TCG_RAISE = dt.date(2024, 12, 22)

# (code, amount, valid_from, valid_to)
TARIFFS: tuple[tuple[str, Decimal, dt.date, dt.date | None], ...] = (
    ("TCG", Decimal("25.00"), START, TCG_RAISE - dt.timedelta(days=1)),
    ("TCG", Decimal("30.00"), TCG_RAISE, None),
    ("TC", Decimal("25.00"), START, None),
)

# (code, parameter); all from START, open-ended.
RULES: tuple[tuple[str, int | None], ...] = (
    ("treating_doctor", None),
    ("prior_visit", 12),  # months
    ("emergency", None),
    ("under_age", 16),  # years
    ("direct_access", None),
    ("no_treating_doctor", None),
    ("ehpad", None),
    ("underserved_zone", None),
    ("sas_referral", None),
    ("cap", 20),  # percent of the year's acts
    ("cap_psychiatry", 40),
)

# (specialty, min_age, max_age): psychiatry is direct access from 16 to 25 only.
DIRECT_ACCESS: tuple[tuple[str, int | None, int | None], ...] = (
    (Specialty.GYNAECOLOGY.value, None, None),
    (Specialty.OBSTETRICS.value, None, None),
    (Specialty.OPHTHALMOLOGY.value, None, None),
    (Specialty.PAEDIATRICS.value, None, None),
    (Specialty.PSYCHIATRY.value, 16, 25),
)

UNDERSERVED: tuple[tuple[str, str], ...] = (
    ("18242", "Sancoins"),
    ("18108", "La Guerche-sur-l'Aubois"),
    ("18155", "Mornay-sur-Allier"),
    ("18160", "Nérondes"),
    ("18245", "Saulzais-le-Potier"),
    ("18261", "Thaumiers"),
    ("18127", "Lignières"),
    ("41075", "Droué"),
    ("41143", "Mondoubleau"),
    ("41154", "Morée"),
    ("41238", "Savigny-sur-Braye"),
)


def ensure(
    tariff_model: Any, rule_model: Any, direct_access_model: Any, underserved_model: Any
) -> None:
    """Write the starting rows that are missing (models given: historical or real)."""
    for code, amount, valid_from, valid_to in TARIFFS:
        tariff_model.objects.get_or_create(
            code=code, valid_from=valid_from, defaults={"amount": amount, "valid_to": valid_to}
        )
    for code, parameter in RULES:
        rule_model.objects.get_or_create(
            code=code, valid_from=START, defaults={"parameter": parameter, "active": True}
        )
    for specialty, min_age, max_age in DIRECT_ACCESS:
        direct_access_model.objects.get_or_create(
            specialty=specialty,
            valid_from=START,
            defaults={"min_age": min_age, "max_age": max_age},
        )
    for insee_code, name in UNDERSERVED:
        underserved_model.objects.get_or_create(
            insee_code=insee_code, valid_from=START, defaults={"name": name}
        )


def ensure_now() -> None:
    """The same with the real models (tests that empty every table, the demo)."""
    from maillage.acts.models import DirectAccessSpecialty, Rule, Tariff, UnderservedCommune

    ensure(Tariff, Rule, DirectAccessSpecialty, UnderservedCommune)
