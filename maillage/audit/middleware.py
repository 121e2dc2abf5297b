from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from maillage.audit.context import audit_context as _audit_context
from maillage.audit.models import Channel
from maillage.fhir.paths import is_api


def audit_context(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Tell audit entries whether a request came through the web or the FHIR API."""

    def middleware(request: HttpRequest) -> HttpResponse:
        channel = Channel.FHIR if is_api(request) else Channel.WEB
        with _audit_context(channel, request.META.get("REMOTE_ADDR")):
            return get_response(request)

    return middleware
