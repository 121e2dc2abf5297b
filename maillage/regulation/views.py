from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from maillage.accounts.models import Role, User
from maillage.policy import regulation as queries
from maillage.policy.gate import PatientNotFound
from maillage.regulation import actions
from maillage.regulation.forms import OpenCaseForm, ReviewForm


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _regulator(request: HttpRequest) -> User:
    user = _user(request)
    if not actions.may_regulate(user):
        raise PermissionDenied
    return user


def _admin(request: HttpRequest) -> User:
    user = _user(request)
    if user.role != Role.ADMIN:
        raise PermissionDenied
    return user


@login_required
@require_GET
def cases(request: HttpRequest) -> HttpResponse:
    user = _regulator(request)
    return render(request, "regulation/cases.html", {"cases": queries.open_cases(user)})


@login_required
@require_http_methods(["GET", "POST"])
def open_case(request: HttpRequest) -> HttpResponse:
    user = _regulator(request)
    form = OpenCaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = actions.open_case(user, form.evidence(), data["reason"], data["hours"])
        except PatientNotFound:
            form.add_error(
                None,
                _(
                    "No patient matches these details, or several do: check them, or give "
                    "the matricule INS."
                ),
            )
        except actions.RegulationRuleBroken as error:
            form.add_error(None, error.message)
        else:
            messages.warning(
                request,
                _(
                    "Regulation case opened until %(until)s. It is recorded, shown to the "
                    "patient and will be reviewed."
                )
                % {"until": dateformat.format(timezone.localtime(case.expires_at), "d/m/Y H:i")},
            )
            return redirect("patients:detail", uuid=case.patient.uuid)
    status = 400 if form.is_bound else 200
    return render(
        request,
        "regulation/open.html",
        {"form": form, "max_hours": actions.max_hours()},
        status=status,
    )


@login_required
@require_POST
def close_case(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _regulator(request)
    case = queries.own_open_case(user, uuid)
    if case is None:
        raise Http404
    try:
        actions.close_case(user, case)
    except actions.RegulationRuleBroken as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Case closed: it no longer opens the patient's data."))
    return redirect("regulation:cases")


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    return render(
        request,
        "regulation/review_queue.html",
        {
            "pending": queries.review_listing(user),
            "done": queries.recently_reviewed(user),
            "form": ReviewForm(),
        },
    )


@login_required
@require_POST
def review(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _admin(request)
    case = queries.case_to_review(user, uuid)
    form = ReviewForm(request.POST)
    if case is None or not form.is_valid():
        messages.error(request, _("Choose the outcome of the review."))
        return redirect("regulation:review_queue")
    try:
        actions.review_case(user, case, form.cleaned_data["outcome"], form.cleaned_data["note"])
    except actions.RegulationRuleBroken as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Review recorded."))
    return redirect("regulation:review_queue")
