from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from maillage.fhir.outcome import operation_outcome_response


def metadata(request: HttpRequest) -> HttpResponse:
    return operation_outcome_response(501)
