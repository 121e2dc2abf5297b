"""Helpers the interaction modules share."""

from __future__ import annotations

import uuid

from maillage.fhir.outcome import FhirError


def uuid_or_404(resource_id: str) -> uuid.UUID:
    """Our ids are UUIDs; anything else names no resource."""
    try:
        return uuid.UUID(resource_id)
    except ValueError:
        raise FhirError(404) from None
