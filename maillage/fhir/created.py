"""The answer to a create that kept less than it received: never a silent loss.

A create succeeds with what the server can hold and names each element it
did not keep, by FHIRPath, as a ``warning`` issue. Per the client's
``Prefer: return=OperationOutcome`` those issues are the body; otherwise the
body is the resource and a ``Warning: 299`` header (RFC 7234) lists the
elements, so that a client that never reads an OperationOutcome on success
still sees it in its logs. The action's audit entry records the same paths.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.utils.translation import gettext as _

from maillage.fhir.outcome import Issue, operation_outcome
from maillage.fhir.result import FhirResult, Json
from maillage.fhir.router import Call

# A Warning header is ASCII text in a quoted-string: the paths we write are
# FHIRPaths of elements the R4B model accepted, this keeps it so whatever
# they hold.
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\[\]-]")
MAX_PATHS_IN_HEADER = 20


def not_kept(path: str, message: str = "") -> Issue:
    """A warning naming an element that was received and not kept."""
    return Issue(
        message or _("This element was received but is not kept by this server."),
        code="informational",
        severity="warning",
        expression=(path,),
    )


def not_kept_paths(warnings: Sequence[Issue]) -> list[str]:
    """The FHIRPaths of the warnings, for the audit entry (no values, only where)."""
    return [path for issue in warnings for path in issue.expression]


def preferred_return(call: Call) -> str:
    """The ``return`` preference of the Prefer header (RFC 7240), "" when none.

    Split by hand rather than with a pattern: the header is the client's text.
    """
    for part in call.request.header("prefer").replace(";", ",").split(","):
        name, _sep, value = part.partition("=")
        if name.strip().lower() == "return":
            return value.strip().strip('"')
    return ""


def prefers_outcome(call: Call) -> bool:
    return preferred_return(call) == "OperationOutcome"


def warning_header(warnings: Sequence[Issue]) -> str:
    """``299 maillage "..."``: the header stays ASCII, so it names paths, not sentences.

    The French diagnostics are in the OperationOutcome a client gets with
    ``Prefer: return=OperationOutcome``; an HTTP header field is not the
    place for non-ASCII text.
    """
    paths = [_UNSAFE.sub("", p) for p in not_kept_paths(warnings)]
    shown = ", ".join(paths[:MAX_PATHS_IN_HEADER])
    more = len(paths) - MAX_PATHS_IN_HEADER
    if more > 0:
        shown += f" and {more} more"
    return f'299 maillage "Not kept: {shown}"'


def created(call: Call, resource: Json, warnings: Sequence[Issue], location: str) -> FhirResult:
    """201 with the resource, or the OperationOutcome the client prefers, and the warnings."""
    headers = {"Location": location}
    if prefers_outcome(call):
        issues = [
            Issue(
                _("Created: %(reference)s.")
                % {"reference": f"{resource['resourceType']}/{resource['id']}"},
                code="informational",
                severity="information",
            ),
            *warnings,
        ]
        return FhirResult(operation_outcome(issues), status=201, headers=headers)
    if warnings:
        headers["Warning"] = warning_header(warnings)
        return FhirResult(
            resource, status=201, headers=headers, outcome=operation_outcome(warnings)
        )
    return FhirResult(resource, status=201, headers=headers)
