from __future__ import annotations

import uuid

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from maillage.rtc.access import relay_label
from maillage.rtc.config import client_config


@require_GET
def ice(request: HttpRequest, consultation: uuid.UUID) -> JsonResponse:
    """Fresh ICE servers for a participant of the act's room (before an ICE restart)."""
    label = relay_label(request, str(consultation))
    response = JsonResponse(client_config(label))
    # TURN credentials: never kept by a browser cache or a proxy.
    response.headers["Cache-Control"] = "no-store, private"
    return response
