"""OperationOutcome: how the FHIR API says anything went wrong.

Handlers raise ``FhirError``; the router turns it into an OperationOutcome
response, so that no error path can end in an HTML page or a bare 500.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

FHIR_JSON = "application/fhir+json"
FHIR_JSON_UTF8 = f"{FHIR_JSON}; charset=utf-8"

# HTTP status -> (FHIR issue code, default diagnostics msgid).
_DEFAULTS = {
    400: ("invalid", gettext_noop("The request is not valid.")),
    401: ("login", gettext_noop("Authentication required: send an API token as a Bearer token.")),
    403: ("forbidden", gettext_noop("Your role does not give access to this.")),
    404: ("not-found", gettext_noop("No such resource.")),
    405: ("not-supported", gettext_noop("This interaction is not supported here.")),
    406: ("not-supported", gettext_noop("This server answers in application/fhir+json only.")),
    409: ("duplicate", gettext_noop("This resource already exists.")),
    412: ("conflict", gettext_noop("The resource changed since you read it.")),
    415: ("not-supported", gettext_noop("Send the resource as application/fhir+json.")),
    422: ("business-rule", gettext_noop("The resource breaks a rule of the platform.")),
    500: ("exception", gettext_noop("The server failed; the incident has been logged.")),
}


@dataclass(frozen=True)
class Issue:
    diagnostics: str
    code: str = "invalid"
    severity: str = "error"
    expression: Sequence[str] = ()

    def as_json(self) -> dict[str, object]:
        issue: dict[str, object] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            issue["expression"] = list(self.expression)
        return issue


class FhirError(Exception):
    """An interaction failed; becomes an OperationOutcome with ``status``.

    Without issues, the default diagnostics for the status are used.
    """

    def __init__(
        self,
        status: int,
        issues: Sequence[Issue] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"HTTP {status}: " + "; ".join(i.diagnostics for i in issues))
        self.status = status
        self.issues = tuple(issues) or default_issues(status)
        self.headers = dict(headers or {})

    @classmethod
    def single(
        cls, status: int, diagnostics: str, code: str = "invalid", expression: str = ""
    ) -> FhirError:
        expressions = (expression,) if expression else ()
        return cls(status, [Issue(diagnostics, code=code, expression=expressions)])


def default_issues(status: int) -> tuple[Issue, ...]:
    code, message = _DEFAULTS.get(status, ("exception", gettext_noop("Error.")))
    return (Issue(_(message), code=code),)


def operation_outcome(issues: Sequence[Issue]) -> dict[str, object]:
    return {"resourceType": "OperationOutcome", "issue": [i.as_json() for i in issues]}


def fhir_json_bytes(body: Mapping[str, object]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def fhir_response(body: Mapping[str, object], status: int = 200, **headers: str) -> HttpResponse:
    return encoded_fhir_response(fhir_json_bytes(body), status, headers)


def encoded_fhir_response(
    content: bytes, status: int = 200, headers: Mapping[str, str] | None = None
) -> HttpResponse:
    """FHIR JSON already serialized (a response built once per process)."""
    response = HttpResponse(content, status=status, content_type=FHIR_JSON_UTF8)
    for name, value in (headers or {}).items():
        response.headers[name.replace("_", "-")] = value
    return response


def operation_outcome_response(
    status: int, issues: Sequence[Issue] | None = None, **headers: str
) -> HttpResponse:
    if not issues:
        issues = default_issues(status)
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    if status == 401:
        named.setdefault("WWW-Authenticate", 'Bearer realm="maillage"')
    return fhir_response(operation_outcome(issues), status, **named)
