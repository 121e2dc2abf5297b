"""Bounds on what a request may carry, read before any view parses it.

Every value a user sends ends up in a parser, a LIKE pattern or a template.
A bound at the door keeps each of them cheap: SQLite refuses LIKE patterns
over 50 000 bytes ("LIKE or GLOB pattern too complex"), and no field of the
platform needs more than a message body. Views read their own parameters
through ``bounded_text`` and ``page_number``, with tighter bounds; the
middleware is the net under them, the admin's search included.

A value over its bound is a 400 with a French message (an OperationOutcome
on the FHIR API, JSON for clients that ask for it), never a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _

from maillage.fhir.outcome import Issue, operation_outcome_response
from maillage.fhir.paths import is_api

# A query parameter: a search, a commune, a page number, a UUID.
MAX_PARAMETER_CHARS = 2_000
# A field of a posted form: the longest is a message body (20 000 characters).
MAX_FIELD_CHARS = 25_000
# A parameter or field name; ours are short words.
MAX_NAME_CHARS = 100
# No list of the platform has this many pages of 20; beyond it a number is an attack.
MAX_PAGE = 100_000
# How much of an attacker's parameter name a message repeats.
_SHOWN_NAME_CHARS = 40
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class BadInput(BadRequest):
    """A value the request should not carry; answered with ``message`` and ``status``."""

    def __init__(self, message: str, status: int = 400, fhir_code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.fhir_code = fhir_code  # the OperationOutcome issue code on the FHIR API


def _shown(name: str) -> str:
    return name if len(name) <= _SHOWN_NAME_CHARS else name[:_SHOWN_NAME_CHARS] + "…"


def bounded_text(params: QueryDict, name: str, max_chars: int, default: str = "") -> str:
    """The parameter ``name``, refused (400) when longer than ``max_chars``."""
    value = params.get(name, default)
    if len(value) > max_chars:
        raise BadInput(
            _("“%(name)s” is longer than %(limit)d characters.")
            % {"name": _shown(name), "limit": max_chars},
            fhir_code="too-long",
        )
    return value


def page_number(params: QueryDict, name: str = "page") -> int:
    """A page number from 1 to MAX_PAGE, for Paginator.get_page or an offset.

    Like get_page, what is not a positive number means the first page, and
    a list shows its last page for a number beyond it. A number beyond any
    list's reach (20 digits made a 500 in the database) is a 400.
    """
    raw = params.get(name, "").strip()
    if not (raw.isascii() and raw.isdigit()):
        return 1
    # Length first: int() of a 5 000-digit string is refused by Python itself.
    digits = raw.lstrip("0") or "0"
    if len(digits) > len(str(MAX_PAGE)) or int(digits) > MAX_PAGE:
        raise BadInput(
            _("The page number must be a whole number from 1 to %(max)d.") % {"max": MAX_PAGE}
        )
    return max(1, int(digits))


def _first_too_long(items: Iterable[tuple[str, list[str]]], max_chars: int) -> str | None:
    for name, values in items:
        if len(name) > MAX_NAME_CHARS or any(len(v) > max_chars for v in values):
            return name
    return None


def _too_long(name: str, limit: int) -> BadInput:
    return BadInput(
        _("The request carries a value longer than %(limit)d characters (“%(name)s”).")
        % {"name": _shown(name), "limit": limit},
        fhir_code="too-long",
    )


def oversized_parameter(request: HttpRequest) -> BadInput | None:
    """The first query parameter over its bound, as the error to answer."""
    name = _first_too_long(request.GET.lists(), MAX_PARAMETER_CHARS)
    return None if name is None else _too_long(name, MAX_PARAMETER_CHARS)


def oversized_field(request: HttpRequest) -> BadInput | None:
    """The first posted form field over its bound (files aside), as the error to answer."""
    if request.method != "POST" or request.content_type not in _FORM_TYPES:
        return None
    name = _first_too_long(request.POST.lists(), MAX_FIELD_CHARS)
    return None if name is None else _too_long(name, MAX_FIELD_CHARS)


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def bad_input_response(request: HttpRequest, error: BadInput) -> HttpResponse:
    """The French answer to a refused value, in the form the client reads."""
    if is_api(request):
        issue = Issue(error.message, code=error.fhir_code)
        return operation_outcome_response(error.status, [issue])
    if _wants_json(request):
        return JsonResponse({"error": error.message}, status=error.status)
    return render(
        request,
        "front/bad_input.html",
        {"message": error.message, "status": error.status},
        status=error.status,
    )


class InputLimitsMiddleware:
    """Refuses over-long parameters and fields before any view; answers ``BadInput`` from views."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        error = oversized_parameter(request)
        if error is not None:
            return bad_input_response(request, error)
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., HttpResponse], *args: object
    ) -> HttpResponse | None:
        # Here rather than in __call__: the body is parsed with the upload
        # handlers of the settings (files stream to disk, limited), after the
        # CSRF check, as the view itself would have it parsed.
        error = oversized_field(request)
        return None if error is None else bad_input_response(request, error)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, BadInput):
            return bad_input_response(request, exception)
        return None
