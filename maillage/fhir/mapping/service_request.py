"""A tele-expertise request to FHIR ServiceRequest (the question); shared by Task and Communication.

- ``id`` is the request's id; its Task has the same id (``Task/<id>``), so a
  client holding one holds the other;
- ``status``: draft → draft; waiting, claimed, on hold → active; concluded →
  completed; cancelled → revoked. ``intent`` is always ``order``;
- ``code`` says it is a tele-expertise (our code system), ``priority`` is the
  priority's FHIR code (a row of ``expertise.Priority``: data);
- ``subject`` the patient, ``requester`` the requester's Practitioner;
- ``performer``: the named (or assigned) specialist as a Practitioner, else
  the pool. A pool is not a resource of this server: it is a logical
  reference of type ``CareTeam`` with its identifier (system
  ``…/NamingSystem/expertise-pool``, value the pool's id) and name, which a
  client may send back as such or as ``CareTeam/<pool id>``;
- ``note`` holds the clinical question; ``supportingInfo`` the record
  documents and the readings (Observation) shared with it that this reader
  may see (each decided again by the document and measurement rules, as on
  the pages);
- the patient's oral consent is our extension ``…/oral-consent`` with
  ``recorder`` (valueReference, the Practitioner who recorded it) and
  ``time`` (valueDateTime, when it was recorded).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fhir.resources.R4B.servicerequest import ServiceRequest

from maillage.expertise.models import Pool, Status
from maillage.fhir.mapping.common import coding, meta, reference
from maillage.fhir.result import Json
from maillage.fhir.systems import MAILLAGE_FHIR
from maillage.fhir.validation import emit

if TYPE_CHECKING:
    from maillage.directory.models import Professional
    from maillage.expertise.models import Request
    from maillage.measurements.models import Observation
    from maillage.records.models import Document

ORAL_CONSENT_EXTENSION = f"{MAILLAGE_FHIR}/StructureDefinition/oral-consent"
POOL_SYSTEM = f"{MAILLAGE_FHIR}/NamingSystem/expertise-pool"
SERVICE_SYSTEM = f"{MAILLAGE_FHIR}/CodeSystem/service"
TELEEXPERTISE_CODE = "teleexpertise"

STATUS_OF: Mapping[str, str] = {
    Status.DRAFT: "draft",
    Status.WAITING: "active",
    Status.CLAIMED: "active",
    Status.ON_HOLD: "active",
    Status.CONCLUDED: "completed",
    Status.CANCELLED: "revoked",
}
# Ours for each FHIR status a search may name.
STATUSES_OF: Mapping[str, tuple[str, ...]] = {
    fhir: tuple(ours for ours, theirs in STATUS_OF.items() if theirs == fhir)
    for fhir in dict.fromkeys(STATUS_OF.values())
}


@dataclass(frozen=True)
class Reader:
    """What every resource of a request needs besides the request."""

    base_url: str
    # Professional pk -> its Practitioner id, for every professional shown.
    practitioners: Mapping[int, uuid.UUID]


def practitioner(professional: Professional | None) -> Json | None:
    if professional is None:
        return None
    return reference("Practitioner", professional.uuid, professional.display_name)


def pool_reference(pool: Pool) -> Json:
    """A pool, as a logical reference: no CareTeam resource is served for it."""
    return {
        "type": "CareTeam",
        "identifier": {"system": POOL_SYSTEM, "value": str(pool.uuid)},
        "display": pool.name,
    }


def performer_of(request: Request) -> Json | None:
    """Who answers: the specialist once there is one, else the pool."""
    if request.assignee is not None:
        return practitioner(request.assignee)
    if request.pool is not None:
        return pool_reference(request.pool)
    return None


def consent_extension(request: Request, recorder: Professional | None) -> Json | None:
    if request.consent_recorded_at is None:
        return None
    parts: list[Json] = []
    shown = practitioner(recorder)
    if shown is not None:
        parts.append({"url": "recorder", "valueReference": shown})
    parts.append({"url": "time", "valueDateTime": request.consent_recorded_at.isoformat()})
    return {"url": ORAL_CONSENT_EXTENSION, "extension": parts}


def service_request(
    request: Request, documents: Sequence[Document], readings: Sequence[Observation] = ()
) -> Json:
    """The ServiceRequest; ``request`` comes through ``policy.expertise``, ``documents``
    and ``readings`` are the shared ones this reader may see (``RequestAccess.documents``
    and ``RequestAccess.readings``)."""
    requester = request.requester_professional
    data: Json = {
        "resourceType": "ServiceRequest",
        "id": str(request.uuid),
        "meta": meta(request.updated_at, request.version),
        "status": STATUS_OF[request.status],
        "intent": "order",
        "code": {
            "coding": [coding(SERVICE_SYSTEM, TELEEXPERTISE_CODE, "Télé-expertise")],
            "text": "Télé-expertise",
        },
        "priority": request.priority.fhir_code,
        "subject": reference("Patient", request.patient.uuid),
        "authoredOn": (request.submitted_at or request.created_at).isoformat(),
        "requester": practitioner(requester),
    }
    performer = performer_of(request)
    if performer is not None:
        data["performer"] = [performer]
    if request.question:
        data["note"] = [{"text": request.question}]
    supporting = [reference("DocumentReference", d.uuid) for d in documents]
    supporting += [reference("Observation", r.uuid) for r in readings]
    if supporting:
        data["supportingInfo"] = supporting
    # The consent is recorded by the requester (expertise.actions.save_draft).
    consent = consent_extension(
        request, requester if request.consent_recorded_by_id == request.requester_id else None
    )
    if consent is not None:
        data["extension"] = [consent]
    return emit(ServiceRequest, data)
