"""Encounter: a teleconsultation, read and searched through ``policy.teleconsult``.

A read takes the caller's seat in the act (one audited entry; 404 for a
stranger and an unknown id alike). A search lists the acts the caller has
a place in (the patient her own), then opens each on the page returned the
same way, so each is decided and audited as a read. Roles that never take
part in a teleconsultation get 403, audited.
"""

from __future__ import annotations

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce

from maillage.audit.models import Action
from maillage.fhir.mapping.encounter import encounter
from maillage.fhir.outcome import FhirError
from maillage.fhir.result import FhirResult, Json
from maillage.fhir.router import Call, Interaction, Route
from maillage.fhir.search import (
    Match,
    ParamType,
    SearchParam,
    all_of,
    general_params,
    ids_q,
    ordering,
    page,
    period_q,
    reference_id,
    searchset,
    token,
)
from maillage.policy import teleconsult as policy
from maillage.policy.gate import NotAllowed, require_purpose
from maillage.policy.teleconsult import ConsultationNotFound, Seat, Visitor
from maillage.teleconsult.models import FHIR_STATUS, Consultation

SORT_FIELDS = {"date": ("planned_start",), "_lastUpdated": ("last_updated",)}
SEARCH_PARAMS = (
    SearchParam("patient", ParamType.REFERENCE, "Patient/id of the patient."),
    SearchParam("status", ParamType.TOKEN, "planned, arrived, in-progress, finished, cancelled."),
    SearchParam("date", ParamType.DATE, "When it started (or was planned to)."),
    *general_params(sort=tuple(SORT_FIELDS)),
)
OURS_OF = {fhir: ours for ours, fhir in FHIR_STATUS.items()}


def _resource(seat: Seat) -> Json:
    places, practitioners = policy.encounter_view(seat)
    return encounter(seat.consultation, places, practitioners)


def _seat(call: Call, resource_id: str) -> Seat:
    if call.user is None:
        raise FhirError(401)
    try:
        return policy.take_seat(
            Visitor(user=call.user),
            resource_id,
            Action.TELECONSULT_READ,
            detail={"fhir": "Encounter"},
        )
    except ConsultationNotFound:
        raise FhirError(404) from None


def read(call: Call) -> FhirResult:
    return FhirResult(_resource(_seat(call, call.resource_id)))


def _patient_q(value: str) -> Q:
    wanted = reference_id("patient", value, "Patient")
    return Q(patient__uuid=wanted) if wanted else Q(pk__in=[])


def _status_q(value: str) -> Q:
    ours = OURS_OF.get(token(value).code)
    return Q(status=ours) if ours else Q(pk__in=[])


def _rows(call: Call) -> QuerySet[Consultation]:
    assert call.user is not None
    query = call.query
    return (
        policy.fhir_acts(call.user)
        .annotate(
            last_updated=Coalesce("ended_at", "started_at", "created_at"),
            date=Coalesce("started_at", "planned_start", "created_at"),
        )
        .filter(
            ids_q(query)
            & all_of(query, "patient", _patient_q)
            & all_of(query, "status", _status_q)
            & period_q(query, "date", "date")
            & period_q(query, "_lastUpdated", "last_updated")
        )
        .order_by(*ordering(query, SORT_FIELDS, (F("date").desc(), "pk")))  # type: ignore[arg-type]
    )


def search(call: Call) -> FhirResult:
    if call.user is None:
        raise FhirError(401)
    try:
        require_purpose(call.user, Action.TELECONSULT_READ, {"fhir": "Encounter"})
    except NotAllowed:
        raise FhirError(403) from None
    found, total = page(_rows(call), call.query)
    matches = [Match(_resource(_seat(call, str(c.uuid)))) for c in found]
    return searchset(call, matches, total)


ROUTES = (
    Route(Interaction.READ, read, "Encounter"),
    Route(
        Interaction.SEARCH_TYPE,
        search,
        "Encounter",
        SEARCH_PARAMS,
        documentation=(
            "Teleconsultations (class v3-ActCode#VR) the caller takes part in, the patient her "
            "own; each one listed is read through the policy and audited."
        ),
    ),
)
