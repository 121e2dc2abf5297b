"""Pages of tele-expertise (being built: the request page, lists and forms come next)."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from maillage.policy.expertise import open_request


@login_required
def detail(request: HttpRequest, uuid: uuid.UUID) -> HttpResponse:
    access = open_request(request.user, uuid)  # type: ignore[arg-type]
    return render(request, "expertise/detail.html", {"access": access, "item": access.request})
