"""The priorities and tariffs a new platform starts with (STANDARDS.md); data from then on.

Urgent 24 h, soon 72 h, routine 7 days (Champlain BASE asks a week at most).
TE2 20 EUR for the answering doctor and RQD 10 EUR for the requester from
1 April 2022 (avenant 9), about four a patient a year. Written by the
migration and, for tests that empty every table, by the factories; an
administrator changes them afterwards (a new tariff is a new row from its date).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

PRIORITIES = (("urgent", 24, "urgent"), ("soon", 72, "asap"), ("routine", 168, "routine"))
TARIFFS = (("TE2", Decimal("20.00")), ("RQD", Decimal("10.00")))
TARIFF_FROM = dt.date(2022, 4, 1)
YEARLY_LIMIT = 4


def ensure(priority_model: Any, tariff_model: Any) -> None:
    """Write the starting rows that are missing (models given: historical or real)."""
    for code, hours, fhir_code in PRIORITIES:
        priority_model.objects.get_or_create(
            code=code, defaults={"hours": hours, "fhir_code": fhir_code}
        )
    for code, amount in TARIFFS:
        tariff_model.objects.get_or_create(
            code=code,
            valid_from=TARIFF_FROM,
            defaults={"amount": amount, "yearly_limit_per_patient": YEARLY_LIMIT},
        )
