"""A tele-expertise request's workflow to FHIR Task (one Task per request, under the same id).

- ``focus`` is ``ServiceRequest/<id>`` and ``basedOn`` too; ``for`` the patient;
- ``status``: draft → draft, waiting → requested, claimed → accepted, on
  hold → on-hold, concluded → completed, cancelled → cancelled;
  ``businessStatus`` says the same in our words (code system
  ``…/CodeSystem/expertise-status``, the French label as text);
- ``owner`` the specialist holding it, else the pool (the logical CareTeam
  reference of ``mapping.service_request``); ``requester`` the requester;
- ``authoredOn`` when it was sent (created, for a draft), ``lastModified``
  its last change, ``restriction.period.end`` when the answer is due;
- once concluded, ``output`` holds the conclusion (``conclusion``,
  valueString), the recommendation (``recommendation``, a code of
  ``…/CodeSystem/expertise-recommendation``) and the filed opinion
  (``opinion``, valueReference to its DocumentReference), each typed by a
  code of ``…/CodeSystem/expertise-output``. A client completes a Task by
  sending the same elements (``mapping`` of ``interactions.task``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from fhir.resources.R4B.task import Task

from maillage.expertise.models import Recommendation, Status
from maillage.fhir.mapping.common import coding, concept, meta, reference
from maillage.fhir.mapping.service_request import performer_of, practitioner
from maillage.fhir.result import Json
from maillage.fhir.systems import MAILLAGE_FHIR
from maillage.fhir.validation import emit

if TYPE_CHECKING:
    from maillage.expertise.models import Request

STATUS_SYSTEM = f"{MAILLAGE_FHIR}/CodeSystem/expertise-status"
OUTPUT_SYSTEM = f"{MAILLAGE_FHIR}/CodeSystem/expertise-output"
RECOMMENDATION_SYSTEM = f"{MAILLAGE_FHIR}/CodeSystem/expertise-recommendation"
CONCLUSION = "conclusion"
RECOMMENDATION = "recommendation"
OPINION = "opinion"

STATUS_OF: Mapping[str, str] = {
    Status.DRAFT: "draft",
    Status.WAITING: "requested",
    Status.CLAIMED: "accepted",
    Status.ON_HOLD: "on-hold",
    Status.CONCLUDED: "completed",
    Status.CANCELLED: "cancelled",
}
OURS: Mapping[str, str] = {fhir: ours for ours, fhir in STATUS_OF.items()}


def output_type(code: str) -> Json:
    return concept(OUTPUT_SYSTEM, code)


def _outputs(request: Request) -> list[Json]:
    if request.status != Status.CONCLUDED:
        return []
    outputs: list[Json] = []
    if request.conclusion:
        outputs.append({"type": output_type(CONCLUSION), "valueString": request.conclusion})
    if request.recommendation:
        label = str(Recommendation(request.recommendation).label)
        outputs.append(
            {
                "type": output_type(RECOMMENDATION),
                "valueCodeableConcept": {
                    "coding": [coding(RECOMMENDATION_SYSTEM, request.recommendation)],
                    "text": label,
                },
            }
        )
    if request.opinion is not None:
        outputs.append(
            {
                "type": output_type(OPINION),
                "valueReference": reference(
                    "DocumentReference", request.opinion.uuid, request.opinion.title
                ),
            }
        )
    return outputs


def task(request: Request) -> Json:
    """The Task; ``request`` comes through ``policy.expertise``."""
    data: Json = {
        "resourceType": "Task",
        "id": str(request.uuid),
        "meta": meta(request.updated_at, request.version),
        "basedOn": [reference("ServiceRequest", request.uuid)],
        "status": STATUS_OF[request.status],
        "businessStatus": {
            "coding": [coding(STATUS_SYSTEM, request.status)],
            "text": str(Status(request.status).label),
        },
        "intent": "order",
        "priority": request.priority.fhir_code,
        "focus": reference("ServiceRequest", request.uuid),
        "for": reference("Patient", request.patient.uuid),
        "authoredOn": (request.submitted_at or request.created_at).isoformat(),
        "lastModified": request.updated_at.isoformat(),
        "requester": practitioner(request.requester_professional),
    }
    owner = performer_of(request)
    if owner is not None:
        data["owner"] = owner
    if request.due_at is not None:
        data["restriction"] = {"period": {"end": request.due_at.isoformat()}}
    outputs = _outputs(request)
    if outputs:
        data["output"] = outputs
    return emit(Task, data)
