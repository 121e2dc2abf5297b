"""The response-time page (a pool's coordinator, the analyst) and a professional's billing CSV."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.accounts.models import User
from maillage.expertise import billing, figures
from maillage.expertise.queries import may_use_expertise
from maillage.policy.relations import professional_id_of


@login_required
def response_times(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    scope = figures.scope_for(user)
    if scope is None:
        raise PermissionDenied
    result = figures.figures_for(scope, kept_ok=True)
    return render(
        request,
        "expertise/figures.html",
        {
            "figures": result,
            "scope": scope,
            "sections": [
                ("specialite", _("By specialty"), _("Specialty"), result.by_specialty),
                ("pole", _("By pool"), _("Pool"), result.by_pool),
                ("mois", _("By month asked"), _("Month asked"), result.by_month),
            ],
        },
    )


@login_required
def billing_csv(request: HttpRequest, year: str, month: str) -> HttpResponse:
    """The acts the professional bills for the month's concluded requests, for a spreadsheet."""
    user: User = request.user  # type: ignore[assignment]
    if not may_use_expertise(user) or professional_id_of(user) is None:
        raise PermissionDenied
    number = int(month)
    if not 1 <= number <= 12:
        raise Http404
    lines = billing.statement(user, int(year), number)
    response = HttpResponse(
        billing.statement_csv(lines).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    name = f"teleexpertise-actes-{year}-{month}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def billing_months(request: HttpRequest) -> HttpResponse:
    """The months whose statement the professional may download (this one and the 12 before)."""
    user: User = request.user  # type: ignore[assignment]
    if not may_use_expertise(user) or professional_id_of(user) is None:
        raise PermissionDenied
    today = timezone.localdate()
    months = []
    for back in range(13):
        index = today.year * 12 + today.month - 1 - back
        months.append(dt.date(index // 12, index % 12 + 1, 1))
    return render(request, "expertise/billing.html", {"months": months})
