"""The billing facts of a concluded request: which acts, at which tariff, and the yearly limit.

Tariffs and limits are rows (``Tariff``), the one in force on the day the
request was concluded; nothing here is a constant of the convention.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.timezone import localdate

from maillage.expertise.models import ActCode, Request, Status, Tariff
from maillage.policy.relations import professional_id_of

if TYPE_CHECKING:
    from maillage.accounts.models import User


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


# --- A professional's statement of a month ----------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    day: dt.date
    reference: str
    act: Act
    # Shown only when the professional may read the request now; else None.
    patient_name: str | None
    birth_date: dt.date | None


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """The month in local time, as [start, end) instants."""
    from django.utils.timezone import get_current_timezone

    zone = get_current_timezone()
    start = dt.datetime(year, month, 1, tzinfo=zone)
    following = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start, following


def statement(user: User, year: int, month: int) -> list[StatementLine]:
    """The user's own acts of the month's concluded requests; the patients shown are audited."""
    from maillage.policy import expertise as policy

    me = professional_id_of(user)
    lines: list[StatementLine] = []
    shown: list[Request] = []
    for request in policy.billed_by(user, *month_bounds(year, month)):
        visible = policy.shows_patient(user, request)
        if visible:
            shown.append(request)
        assert request.concluded_at is not None
        for act in acts_of(request):
            if act.professional_id != me:
                continue
            lines.append(
                StatementLine(
                    day=localdate(request.concluded_at),
                    reference=str(request.uuid)[:8],
                    act=act,
                    patient_name=request.patient.display_name if visible else None,
                    birth_date=request.patient.birth_date if visible else None,
                )
            )
    if shown:
        policy.audit_listed(user, shown)
    return lines


def statement_csv(lines: list[StatementLine]) -> str:
    """French spreadsheets: ``;`` between cells, a decimal comma, a BOM so Excel reads UTF-8."""
    from django.utils.translation import gettext as _

    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            _("Date"),
            _("Request reference"),
            _("Act"),
            _("Label"),
            _("Amount (EUR)"),
            _("Patient"),
            _("Birth date"),
            _("Warning"),
        ]
    )
    for line in lines:
        warning = ""
        if line.act.over_limit:
            warning = _(
                "Over the yearly limit: tele-expertise %(count)d of %(limit)d for this patient"
            ) % {"count": line.act.count_in_year, "limit": line.act.yearly_limit}
        writer.writerow(
            [
                line.day.strftime("%d/%m/%Y"),
                line.reference,
                line.act.code,
                line.act.label,
                f"{line.act.amount:.2f}".replace(".", ","),
                _safe_cell(line.patient_name) if line.patient_name else "—",
                line.birth_date.strftime("%d/%m/%Y") if line.birth_date else "—",
                warning,
            ]
        )
    return out.getvalue()


def _safe_cell(text: str) -> str:
    """A name starting with = + - @ is not a formula to a spreadsheet (CSV injection)."""
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text
