"""The billing facts of a concluded request: which acts, at which tariff, and the yearly limit.

Tariffs and limits are rows (``Tariff``), the one in force on the day the
request was concluded; nothing here is a constant of the convention.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils.timezone import localdate

from maillage.expertise.models import ActCode, Request, Status, Tariff


@dataclass(frozen=True)
class Act:
    code: str
    label: str
    amount: Decimal
    # Who bills it: the requesting professional (RQD) or the answering doctor (TE2).
    professional_id: int
    # The patient's concluded tele-expertises in the civil year, this one included.
    count_in_year: int
    yearly_limit: int

    @property
    def over_limit(self) -> bool:
        return self.count_in_year > self.yearly_limit


def tariff_on(code: str, day: dt.date) -> Tariff | None:
    return Tariff.objects.filter(code=code, valid_from__lte=day).order_by("-valid_from").first()


def concluded_in_year(request: Request, year: int) -> int:
    """The patient's concluded requests of that civil year, up to and including this one."""
    assert request.concluded_at is not None
    return Request.objects.filter(
        patient_id=request.patient_id,
        status=Status.CONCLUDED,
        concluded_at__year=year,
        concluded_at__lte=request.concluded_at,
    ).count()


def acts_of(request: Request) -> list[Act]:
    """RQD for the requester, TE2 for the specialist, as the rules stand on the conclusion day."""
    if request.status != Status.CONCLUDED or request.concluded_at is None:
        return []
    day = localdate(request.concluded_at)
    count = concluded_in_year(request, day.year)
    acts = []
    for code, professional_id in (
        (ActCode.SPECIALIST, request.assignee_id),
        (ActCode.REQUESTER, request.requester_professional_id),
    ):
        tariff = tariff_on(code, day)
        if tariff is None or professional_id is None:
            continue
        acts.append(
            Act(
                code=code,
                label=str(ActCode(code).label),
                amount=tariff.amount,
                professional_id=professional_id,
                count_in_year=count,
                yearly_limit=tariff.yearly_limit_per_patient,
            )
        )
    return acts
