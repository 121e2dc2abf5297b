"""CORS for the FHIR API: a SMART app running in a browser on its own origin.

Only the origins an administrator listed on a registered app
(``Application.allowed_origins``, django-oauth-toolkit's field, which the
token endpoint already honours) may read the API's answers from a page of
theirs. Credentials are never allowed cross-origin: the API reads a bearer
token, never a cookie, so a page cannot borrow a signed-in person's session.
Without an ``Origin`` header (every non-browser client) nothing is done.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from oauth2_provider.models import get_application_model

from maillage.fhir.paths import is_api

_METHODS = "GET, POST, PUT, PATCH, DELETE"
_REQUEST_HEADERS = (
    "Authorization, Content-Type, Accept, Prefer, If-Match, If-None-Match, If-None-Exist"
)
# What a FHIR client reads beside the body: where a create went, versions,
# the status URL of an export and its progress, the warning of what was not kept.
_EXPOSED = "Location, Content-Location, ETag, Last-Modified, X-Progress, Warning, Retry-After"
_PREFLIGHT_SECONDS = "600"


def origin_allowed(origin: str) -> bool:
    """Whether a registered app lists this exact origin (scheme, host and port)."""
    if not origin or len(origin) > 200 or origin == "null":
        return False
    candidates = get_application_model().objects.filter(allowed_origins__contains=origin)
    return any(origin in app.allowed_origins.split() for app in candidates.only("allowed_origins"))


def cors(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    def middleware(request: HttpRequest) -> HttpResponse:
        origin = request.META.get("HTTP_ORIGIN", "")
        if not origin or not is_api(request):
            return get_response(request)
        allowed = origin_allowed(origin)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            # A preflight: answered here; a refused origin gets no CORS header,
            # so the browser sends nothing.
            response = HttpResponse(status=204)
            if allowed:
                response.headers["Access-Control-Allow-Methods"] = _METHODS
                response.headers["Access-Control-Allow-Headers"] = _REQUEST_HEADERS
                response.headers["Access-Control-Max-Age"] = _PREFLIGHT_SECONDS
        else:
            response = get_response(request)
            if allowed:
                response.headers["Access-Control-Expose-Headers"] = _EXPOSED
        if allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = ", ".join(
            filter(None, [response.headers.get("Vary", ""), "Origin"])
        )
        return response

    return middleware
