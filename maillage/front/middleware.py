from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from maillage.fhir.paths import is_api

# Everything from our own origin; no inline script, no eval, no framing.
# htmx is configured (meta htmx-config) not to inject inline styles.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Django's admin sets a few style attributes; it gets inline styles, nothing more.
ADMIN_POLICY = POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
# Neither the browser nor a proxy keeps a copy of what may name a patient.
NO_STORE = "no-store, private"
_PUBLIC_PREFIXES = ("/static/", "/favicon")


def content_security_policy(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        policy = ADMIN_POLICY if request.path.startswith("/admin/") else POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response

    return middleware


def carries_private_data(request: HttpRequest) -> bool:
    """Every FHIR response and every response to a signed-in user, static files aside.

    Simpler and sounder than deciding page by page which ones name a patient.
    """
    if request.path.startswith(_PUBLIC_PREFIXES):
        return False
    if is_api(request):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def private_no_store(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """``Cache-Control: no-store, private`` on every response that may carry patient data."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if carries_private_data(request):
            response.headers["Cache-Control"] = NO_STORE
        return response

    return middleware
