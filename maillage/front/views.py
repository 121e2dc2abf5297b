from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from maillage.accounts.models import Role, User
from maillage.front import indicators
from maillage.front.navigation import actions_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    return render(request, "front/home.html", {"cards": actions_for(user), "role": user.role})


@login_required
def indicators_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if user.role not in {Role.ANALYST, Role.ADMIN}:
        raise PermissionDenied
    return render(
        request,
        "front/indicators.html",
        {
            "structures": indicators.structures_by_kind(),
            "professionals": indicators.professionals_by_profession(),
            "patients": indicators.patients_by_departement(),
            "small_cell": indicators.SMALL_CELL,
        },
    )
