"""Where the FHIR API lives, for the code outside it that treats its requests apart.

Its requests authenticate by bearer token only (``maillage.fhir.auth``):
the pages' session, user and messages are not made for them, errors are
answered as OperationOutcome, and their audit entries say ``fhir``.
"""

from __future__ import annotations

from django.http import HttpRequest

PREFIX = "/fhir/"


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(PREFIX)
