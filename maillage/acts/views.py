"""The report page: the doctor writes the report in one form, saves it, closes it.

The view parses, opens the act through ``policy.acts`` (its doctor only; the
opening audited), calls one action, and renders. A rule an action refuses
comes back on the form in French with what was typed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from maillage.accounts.models import Role, User
from maillage.acts import actions
from maillage.acts.facts import assess_for
from maillage.acts.forms import ReportForm
from maillage.acts.labels import act_shown, eligibility_context
from maillage.acts.models import Report
from maillage.policy.acts import report_for_reading, reports_to_write
from maillage.policy.teleconsult import Seat


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _initial(seat: Seat, report: Report | None) -> dict[str, Any]:
    if report is None:
        return {"reason": seat.consultation.reason}
    return {
        "reason": report.reason,
        "observations": report.observations,
        "conclusion": report.conclusion,
        "prescriptions": report.prescriptions,
        "follow_up": report.follow_up,
        "orientation": report.orientation,
    }


def _page(
    request: HttpRequest, seat: Seat, report: Report | None, form: ReportForm, status: int = 200
) -> HttpResponse:
    consultation = seat.consultation
    context: dict[str, Any] = {
        "consultation": consultation,
        "patient": consultation.patient,
        "report": report,
        "form": form,
        "act": getattr(report, "act", None) if report is not None else None,
    }
    act = context["act"]
    if act is not None:
        context.update(act_shown(act))
    if report is None or not report.is_closed:
        moment = consultation.started_at or consultation.planned_start
        context.update(
            eligibility_context(assess_for(consultation.patient, consultation.doctor, moment))
        )
    return render(request, "acts/report.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    if request.method == "GET":
        seat, current = report_for_reading(user, uuid)
        return _page(request, seat, current, ReportForm(initial=_initial(seat, current)))
    form = ReportForm(request.POST)
    closing = "close" in request.POST
    if form.is_valid():
        try:
            if closing:
                actions.close(user, uuid, form.content(), form.facts())
            else:
                actions.save_draft(user, uuid, form.content())
        except actions.ReportRuleBroken as broken:
            form.add_error(broken.field if broken.field in form.fields else None, broken.message)
        else:
            messages.success(
                request,
                _("Closed: the report is filed in the record and sent.")
                if closing
                else _("The report is saved."),
            )
            return redirect("acts:report", uuid=uuid)
    seat, current = report_for_reading(user, uuid)
    return _page(request, seat, current, form, status=400)


@login_required
@require_GET
def to_write(request: HttpRequest) -> HttpResponse:
    """The doctor's held acts whose report is not closed yet (drafts included)."""
    user = _user(request)
    if user.role != Role.DOCTOR:
        raise PermissionDenied
    return render(request, "acts/to_write.html", {"rows": reports_to_write(user)})
