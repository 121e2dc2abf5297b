"""The Django side of the API: one view turning HTTP into a FhirRequest and back.

Everything below /fhir/r4/ lands here, so unknown paths and methods get an
OperationOutcome too, never an HTML error page.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.http.request import HttpHeaders
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from maillage.fhir.outcome import (
    FhirError,
    Issue,
    encoded_fhir_response,
    fhir_response,
    operation_outcome_response,
)
from maillage.fhir.result import FhirResult
from maillage.fhir.router import FhirRequest
from maillage.fhir.routes import ROUTER
from maillage.files.responses import STORED_FILE_POLICY

logger = logging.getLogger(__name__)


@lru_cache(maxsize=16)
def _base_path(script_prefix: str, urlconf: str | None) -> str:
    """Reversed once per prefix: ``reverse`` cost a tenth of a ``metadata`` request."""
    return reverse("fhir:base", urlconf=urlconf).rstrip("/")


def base_url(request: HttpRequest) -> str:
    """The absolute base of the API, as clients must see it (behind a proxy too)."""
    path = _base_path(get_script_prefix(), get_urlconf())
    public = settings.MAILLAGE_PUBLIC_URL.rstrip("/")
    return f"{public}{path}" if public else request.build_absolute_uri(path)


# What the router and handlers read: negotiation, the token, Prefer, and the
# conditions of a conditional write (If-Match, If-None-Exist); each with its
# key in the WSGI environment, read there (``request.headers`` would first
# copy every header of the request).
_HEADERS = {
    name: HttpHeaders.to_wsgi_name(name)
    for name in (
        "accept",
        "content-type",
        "authorization",
        "prefer",
        "if-match",
        "if-none-match",
        "if-none-exist",
    )
}


def _headers(request: HttpRequest) -> dict[str, str]:
    meta = request.META
    return {name: meta[key] for name, key in _HEADERS.items() if key in meta}


def to_fhir_request(request: HttpRequest, path: str) -> FhirRequest:
    method = request.method or "GET"
    return FhirRequest(
        method=method,
        path=path,
        base_url=base_url(request),
        query=tuple((name, value) for name, values in request.GET.lists() for value in values),
        headers=_headers(request),
        # Reading the body of a GET would only cost memory.
        body=request.body if method in {"POST", "PUT", "PATCH"} else b"",
    )


# Token-authenticated: a cross-site request carries no bearer token, and
# cookies are never read (see maillage.fhir.auth), so CSRF does not apply.
@csrf_exempt
def endpoint(request: HttpRequest, path: str = "") -> HttpResponse:
    try:
        fhir_request = to_fhir_request(request, path)
        result = ROUTER.dispatch(fhir_request)
    except RequestDataTooBig:
        return operation_outcome_response(
            413, [Issue(_("The body is too large."), code="too-costly")]
        )
    except SuspiciousOperation:
        # Too many query fields, and the like: Django's own input limits.
        return operation_outcome_response(400)
    except FhirError as error:
        return operation_outcome_response(error.status, error.issues, **error.headers)
    except Exception:
        # A bug, not bad input (every input error is a FhirError): log it and
        # still answer in FHIR.
        logger.exception("FHIR %s %s failed", request.method, request.path)
        return operation_outcome_response(500)
    if result.raw is not None:
        return raw_response(result)
    if result.encoded is not None:
        return encoded_fhir_response(result.encoded, result.status, result.headers)
    return fhir_response(result.body, result.status, **dict(result.headers))


def raw_response(result: FhirResult) -> HttpResponse:
    """Bytes in their own media type: a stored file is never a page of ours."""
    assert result.raw is not None
    response = HttpResponse(
        result.raw.data, status=result.status, content_type=result.raw.media_type
    )
    for name, value in result.headers.items():
        response.headers[name] = value
    # No script, no sniffing, no framing, whatever the file holds.
    response.headers["Content-Security-Policy"] = STORED_FILE_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
