"""The response-time page: quartiles for a pool's coordinator (their pools) or the analyst."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from maillage.accounts.models import User
from maillage.expertise import figures


@login_required
def response_times(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    scope = figures.scope_for(user)
    if scope is None:
        raise PermissionDenied
    result = figures.figures_for(scope)
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
