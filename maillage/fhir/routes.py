"""Every route of the API, in one registry: dispatching and metadata both read it."""

from __future__ import annotations

from maillage.fhir.auth import authenticate
from maillage.fhir.interactions import (
    agenda,
    appointment_change,
    audit_event,
    binary,
    bulk_export,
    bundle,
    communication,
    consent,
    device,
    document_reference,
    encounter,
    location,
    media,
    metadata,
    observation,
    organization,
    patient,
    practitioner,
    practitioner_role,
    service_request,
    task,
)
from maillage.fhir.router import Route, Router

ROUTES: tuple[Route, ...] = (
    *metadata.ROUTES,
    *bundle.ROUTES,
    *patient.ROUTES,
    *practitioner.ROUTES,
    *practitioner_role.ROUTES,
    *organization.ROUTES,
    *location.ROUTES,
    *document_reference.ROUTES,
    *binary.ROUTES,
    *consent.ROUTES,
    *communication.ROUTES,
    *service_request.ROUTES,
    *task.ROUTES,
    *agenda.ROUTES,
    *appointment_change.ROUTES,
    *encounter.ROUTES,
    *observation.ROUTES,
    *device.ROUTES,
    *media.ROUTES,
    *audit_event.ROUTES,
    *bulk_export.ROUTES,
)

ROUTER = Router(ROUTES, authenticate)
