"""Error pages in French; the FHIR API answers with OperationOutcome instead."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from maillage.fhir.outcome import operation_outcome_response
from maillage.fhir.paths import is_api


def _page(request: HttpRequest, status: int, template: str) -> HttpResponse:
    if is_api(request):
        return operation_outcome_response(status)
    return render(request, template, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 400, "400.html")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 403, "403.html")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 404, "404.html")


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return operation_outcome_response(500)
    # No context processors here: the error may come from them.
    return render(request, "500.html", status=500, using=None)
