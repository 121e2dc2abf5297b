from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from maillage.realtime import events


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    """The user's recent notifications; opening the list clears the bell (as reading a mail)."""
    assert request.user.pk is not None
    user_id = int(request.user.pk)
    rows = [
        (event, events.KINDS.get(event.kind, ""), _link(event.kind, event.data))
        for event in events.recent(user_id)
    ]
    events.mark_seen(user_id)
    return render(request, "realtime/notifications.html", {"rows": rows})


def _link(kind: str, data: object) -> str:
    """Where a notification leads: identifiers only; the page there asks the policy."""
    if not isinstance(data, dict):
        return ""
    if kind in {events.MESSAGE_NEW, events.DELIVERY_STATUS}:
        return _url("messaging:thread", data.get("thread"))
    if kind == events.EXPERTISE_CHANGED:
        return _url("expertise:detail", data.get("request"))
    return ""


def _url(name: str, value: object) -> str:
    if not isinstance(value, str):
        return ""
    try:
        return reverse(name, kwargs={"uuid": uuid.UUID(value)})
    except ValueError:
        return ""
