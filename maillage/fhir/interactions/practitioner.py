"""Practitioner: the professionals of the directory (not patient data)."""

from __future__ import annotations

from django.db.models import Q

from maillage.directory.models import Professional
from maillage.fhir.interactions.common import uuid_or_404
from maillage.fhir.mapping.directory import IDNPS_PREFIX_RPPS, practitioner_resource
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
    page_filtered,
    period_q,
    searchset,
    text_test,
    token,
)
from maillage.fhir.systems import FR_CORE_PRACTITIONER, IDNPS_SYSTEM, RPPS_SYSTEM

SORT_FIELDS = {
    "family": ("last_name",),
    "given": ("first_name",),
    "_lastUpdated": ("updated_at",),
    "_id": ("uuid",),
}

SEARCH_PARAMS = (
    SearchParam(
        "identifier",
        ParamType.TOKEN,
        f"RPPS ({RPPS_SYSTEM}|number) or IDNPS ({IDNPS_SYSTEM}|8 and the RPPS number).",
    ),
    SearchParam("name", ParamType.STRING, "Start of a word of the given or family name."),
    SearchParam("family", ParamType.STRING, "Start of a word of the family name."),
    SearchParam("given", ParamType.STRING, "Start of a word of the given name."),
    *general_params(
        sort=tuple(SORT_FIELDS),
        revinclude=("PractitionerRole:practitioner",),
    ),
)


def read(call: Call) -> FhirResult:
    professional = Professional.objects.filter(uuid=uuid_or_404(call.resource_id)).first()
    if professional is None:
        raise FhirError(404)
    return FhirResult(practitioner_resource(professional))


def _identifier_q(value: str) -> Q:
    wanted = token(value)
    if wanted.system == RPPS_SYSTEM:
        return Q(rpps=wanted.code)
    idnps = (
        wanted.code.removeprefix(IDNPS_PREFIX_RPPS)
        if wanted.code.startswith(IDNPS_PREFIX_RPPS)
        else None
    )
    if wanted.system == IDNPS_SYSTEM:
        return Q(rpps=idnps) if idnps else Q(pk__in=[])
    if wanted.system is None:
        return Q(rpps=wanted.code) | (Q(rpps=idnps) if idnps else Q(pk__in=[]))
    return Q(pk__in=[])


def search(call: Call) -> FhirResult:
    query = call.query
    rows = Professional.objects.filter(
        all_of(query, "identifier", _identifier_q)
        & ids_q(query)
        & period_q(query, "_lastUpdated", "updated_at")
    ).order_by(*ordering(query, SORT_FIELDS, ("last_name", "first_name", "pk")))
    passes = text_test(
        query,
        {
            "name": lambda r: f"{r['first_name']} {r['last_name']}",
            "family": lambda r: r["last_name"],
            "given": lambda r: r["first_name"],
        },
    )
    professionals, total = page_filtered(rows, query, passes, ("first_name", "last_name"))
    return searchset(call, [Match(practitioner_resource(p)) for p in professionals], total)


ROUTES = (
    Route(Interaction.READ, read, "Practitioner", profile=FR_CORE_PRACTITIONER),
    Route(
        Interaction.SEARCH_TYPE,
        search,
        "Practitioner",
        SEARCH_PARAMS,
        profile=FR_CORE_PRACTITIONER,
    ),
)
