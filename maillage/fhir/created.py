"""The answer to a create or an update, as the client prefers it, and never a silent loss.

A create succeeds with what the server can hold and names each element it
did not keep, by FHIRPath, as a ``warning`` issue. Per the client's
``Prefer: return=OperationOutcome`` those issues are the body; otherwise the
body is the resource and a ``Warning: 299`` header (RFC 7234) lists the
elements, so that a client that never reads an OperationOutcome on success
still sees it in its logs. The action's audit entry records the same paths.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from django.utils.translation import gettext as _

from maillage.fhir.outcome import Issue, operation_outcome
from maillage.fhir.result import FhirResult, Json
from maillage.fhir.router import Call
from maillage.fhir.versions import version_headers

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


def preference(call: Call, wanted: str) -> str:
    """One preference of the Prefer header (RFC 7240), "" when not given.

    Split by hand rather than with a pattern: the header is the client's text.
    """
    for part in call.request.header("prefer").replace(";", ",").split(","):
        name, _sep, value = part.partition("=")
        if name.strip().lower() == wanted:
            return value.strip().strip('"')
    return ""


def preferred_return(call: Call) -> str:
    """The ``return`` preference, "" when none."""
    return preference(call, "return")


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
    """201 with the resource, or what the client prefers, and the warnings."""
    message = _("Created: %(reference)s.") % {"reference": _reference(resource)}
    return answer(call, resource, warnings, 201, message, {"Location": location})


def updated(call: Call, resource: Json, warnings: Sequence[Issue]) -> FhirResult:
    """200 with the resource, or what the client prefers, and the warnings."""
    message = _("Updated: %(reference)s.") % {"reference": _reference(resource)}
    return answer(call, resource, warnings, 200, message)


def _reference(resource: Json) -> str:
    return f"{resource['resourceType']}/{resource['id']}/_history/{resource['meta']['versionId']}"


def answer(
    call: Call,
    resource: Json,
    warnings: Sequence[Issue],
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> FhirResult:
    """A write's answer per ``Prefer: return=`` (representation by default, RFC 7240).

    ``minimal``: no body; ``OperationOutcome``: what happened and the
    warnings; otherwise the resource, with the warnings in a Warning header.
    The resource's ETag and Last-Modified go with each of them.
    """
    sent = {**(headers or {}), **version_headers(resource)}
    preferred = preferred_return(call)
    if preferred == "OperationOutcome":
        issues = [Issue(message, code="informational", severity="information"), *warnings]
        return FhirResult(operation_outcome(issues), status=status, headers=sent)
    if warnings:
        sent["Warning"] = warning_header(warnings)
    # A bundle's entry answers the warnings in its response.outcome.
    outcome = operation_outcome(warnings) if warnings else None
    if preferred == "minimal":
        return FhirResult({}, status=status, headers=sent, encoded=b"", outcome=outcome)
    return FhirResult(resource, status=status, headers=sent, outcome=outcome)
