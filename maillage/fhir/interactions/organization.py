"""Organization: the structures of the directory (who they are)."""

from __future__ import annotations

from django.db.models import Q

from maillage.directory.models import Structure
from maillage.fhir.interactions.common import uuid_or_404
from maillage.fhir.interactions.structures import (
    NAME_FIELDS,
    SORT_FIELDS,
    name_test,
    structure_criteria,
    structures,
)
from maillage.fhir.mapping.directory import IDNST_PREFIX_FINESS, organization_resource
from maillage.fhir.outcome import FhirError
from maillage.fhir.result import FhirResult
from maillage.fhir.router import Call, Interaction, Route
from maillage.fhir.search import (
    Match,
    ParamType,
    SearchParam,
    all_of,
    general_params,
    page_filtered,
    searchset,
    token,
)
from maillage.fhir.systems import (
    FINESS_SYSTEM,
    FR_CORE_ORGANIZATION,
    IDNST_SYSTEM,
    SIRET_SYSTEM,
    STRUCTURE_KIND_SYSTEM,
)

SEARCH_PARAMS = (
    SearchParam(
        "identifier",
        ParamType.TOKEN,
        f"FINESS ({FINESS_SYSTEM}), IDNST ({IDNST_SYSTEM}, 1 and the FINESS number) "
        f"or SIRET ({SIRET_SYSTEM}).",
    ),
    SearchParam("name", ParamType.STRING, "Start of a word of the name."),
    SearchParam("type", ParamType.TOKEN, f"Kind of structure ({STRUCTURE_KIND_SYSTEM})."),
    SearchParam("address-city", ParamType.STRING, "Start of a word of the commune's name."),
    *general_params(
        sort=tuple(SORT_FIELDS),
        revinclude=("PractitionerRole:organization",),
    ),
)


def read(call: Call) -> FhirResult:
    structure = (
        Structure.objects.select_related("commune")
        .filter(uuid=uuid_or_404(call.resource_id))
        .first()
    )
    if structure is None:
        raise FhirError(404)
    return FhirResult(organization_resource(structure))


def _identifier_q(value: str) -> Q:
    wanted = token(value)
    code = wanted.code.strip().upper()
    from_idnst = (
        code.removeprefix(IDNST_PREFIX_FINESS) if code.startswith(IDNST_PREFIX_FINESS) else ""
    )
    by_system = {
        FINESS_SYSTEM: Q(finess=code),
        IDNST_SYSTEM: Q(finess=from_idnst) if from_idnst else Q(pk__in=[]),
        SIRET_SYSTEM: Q(siret=code),
    }
    if wanted.system is None:
        return Q(finess=code) | Q(siret=code) | by_system[IDNST_SYSTEM]
    return by_system.get(wanted.system, Q(pk__in=[]))


def search(call: Call) -> FhirResult:
    query = call.query
    criteria = structure_criteria(query) & all_of(query, "identifier", _identifier_q)
    rows = structures(query).filter(criteria)
    found, total = page_filtered(rows, query, name_test(query), NAME_FIELDS)
    return searchset(call, [Match(organization_resource(s)) for s in found], total)


ROUTES = (
    Route(Interaction.READ, read, "Organization", profile=FR_CORE_ORGANIZATION),
    Route(
        Interaction.SEARCH_TYPE,
        search,
        "Organization",
        SEARCH_PARAMS,
        profile=FR_CORE_ORGANIZATION,
    ),
)
