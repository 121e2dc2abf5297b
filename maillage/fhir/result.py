"""What a handler returns: a body, a status and headers, without Django."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# A FHIR resource as JSON. FHIR JSON is open-ended (extensions anywhere), so
# a TypedDict per resource would promise more than it could check; the R4B
# models validate every resource we emit instead (see maillage.fhir.validation).
Json = dict[str, Any]


@dataclass(frozen=True)
class RawContent:
    """Bytes sent as they are, in their own media type (a Binary read)."""

    data: bytes
    media_type: str


@dataclass(frozen=True)
class FhirResult:
    body: Json
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    # When set, the response is these bytes, not ``body`` as FHIR JSON.
    raw: RawContent | None = None
    # ``body`` already serialized as FHIR JSON (UTF-8), sent as it is: a
    # response built once per process (the CapabilityStatement) is not
    # encoded again on every request.
    encoded: bytes | None = None
    # Warnings beside a resource (what a create did not keep), as an
    # OperationOutcome: a batch or transaction entry answers them in its
    # ``response.outcome``, where a single request has the Warning header.
    outcome: Json | None = None
