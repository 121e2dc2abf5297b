from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from maillage.accounts.models import User
from maillage.tasks import queries
from maillage.tasks.access import may_watch_work


@login_required
@require_GET
def work(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not may_watch_work(user):
        raise PermissionDenied
    return render(request, "tasks/work.html", {"overview": queries.overview()})
