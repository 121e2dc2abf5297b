"""PractitionerRole: a professional working in a structure (a Practice)."""

from __future__ import annotations

from django.db.models import Q
from django.db.models.functions import Greatest

from maillage.directory.models import Practice
from maillage.directory.terminology import specialty_family
from maillage.fhir.interactions.common import uuid_or_404
from maillage.fhir.mapping.directory import practitioner_role_resource
from maillage.fhir.outcome import FhirError
from maillage.fhir.result import FhirResult
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
from maillage.fhir.systems import (
    FR_CORE_PRACTITIONER_ROLE,
    PROFESSION_SYSTEM,
    SPECIALTY_SYSTEM,
    TELEEXPERTISE_EXTENSION,
)

SEARCH_PARAMS = (
    SearchParam("practitioner", ParamType.REFERENCE, "Practitioner/id of the professional."),
    SearchParam("organization", ParamType.REFERENCE, "Organization/id of the structure."),
    SearchParam(
        "specialty",
        ParamType.TOKEN,
        "Ordinal specialty (TRE_R38); a specialty also finds its renamed variants.",
    ),
    SearchParam("role", ParamType.TOKEN, "Profession (TRE_G15), e.g. 10 for doctors."),
    *general_params(
        sort=("practitioner", "organization", "role", "specialty", "_lastUpdated", "_id"),
        include=(
            "PractitionerRole:practitioner",
            "PractitionerRole:organization",
            "PractitionerRole:location",
        ),
    ),
)

SORT_FIELDS = {
    "practitioner": ("professional__last_name", "professional__first_name"),
    "organization": ("structure__name",),
    "role": ("professional__profession",),
    "specialty": ("professional__specialty",),
    "_lastUpdated": ("last_updated",),
    "_id": ("uuid",),
}


def read(call: Call) -> FhirResult:
    practice = (
        Practice.objects.select_related("professional", "structure")
        .filter(uuid=uuid_or_404(call.resource_id))
        .first()
    )
    if practice is None:
        raise FhirError(404)
    return FhirResult(practitioner_role_resource(practice))


def _practitioner_q(value: str) -> Q:
    wanted = reference_id("practitioner", value, "Practitioner")
    return Q(professional__uuid=wanted) if wanted else Q(pk__in=[])


def _organization_q(value: str) -> Q:
    wanted = reference_id("organization", value, "Organization")
    return Q(structure__uuid=wanted) if wanted else Q(pk__in=[])


def _specialty_q(value: str) -> Q:
    wanted = token(value)
    if wanted.system not in (None, SPECIALTY_SYSTEM):
        return Q(pk__in=[])
    return Q(professional__specialty__in=specialty_family(wanted.code))


def _role_q(value: str) -> Q:
    wanted = token(value)
    if wanted.system not in (None, PROFESSION_SYSTEM):
        return Q(pk__in=[])
    return Q(professional__profession=wanted.code)


def search(call: Call) -> FhirResult:
    query = call.query
    criteria = (
        all_of(query, "practitioner", _practitioner_q)
        & all_of(query, "organization", _organization_q)
        & all_of(query, "specialty", _specialty_q)
        & all_of(query, "role", _role_q)
        & ids_q(query)
        & period_q(query, "_lastUpdated", "last_updated")
    )
    rows = (
        # A role changes with its professional and its structure (its meta says so).
        Practice.objects.annotate(
            last_updated=Greatest("updated_at", "professional__updated_at", "structure__updated_at")
        )
        .filter(criteria)
        .select_related("professional", "structure")
        .order_by(
            *ordering(
                query,
                SORT_FIELDS,
                ("professional__last_name", "professional__first_name", "structure__name", "pk"),
            )
        )
    )
    practices, total = page(rows, query)
    return searchset(call, [Match(practitioner_role_resource(p)) for p in practices], total)


ROUTES = (
    Route(Interaction.READ, read, "PractitionerRole", profile=FR_CORE_PRACTITIONER_ROLE),
    Route(
        Interaction.SEARCH_TYPE,
        search,
        "PractitionerRole",
        SEARCH_PARAMS,
        profile=FR_CORE_PRACTITIONER_ROLE,
        documentation=(
            f"Tele-expertise is in our extension {TELEEXPERTISE_EXTENSION}: sub-extensions "
            "'available' (valueBoolean) and 'responseTime' (valueDuration, hours committed)."
        ),
    ),
)
