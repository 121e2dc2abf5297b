"""The owner's page of the apps he authorized, each with a button that revokes it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from maillage.accounts.models import User
from maillage.smart import actions
from maillage.smart.descriptions import describe


@login_required
@require_GET
def apps(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    rows = [
        (app, [describe(s) for s in app.scopes if _describable(s)])
        for app in actions.authorized_apps(user)
    ]
    return render(request, "smart/apps.html", {"rows": rows})


def _describable(scope: str) -> bool:
    try:
        describe(scope)
    except KeyError:
        return False
    return True


@login_required
@require_POST
def revoke(request: HttpRequest, client_id: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    # Another's app, or one without tokens of this user, looks like a missing one.
    if not actions.revoke_app(user, client_id):
        raise Http404
    messages.success(request, _("The app no longer has access to your data."))
    return redirect("smart:apps")
