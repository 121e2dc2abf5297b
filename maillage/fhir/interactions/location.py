"""Location: where the structures are, with their equipment; search by distance."""

from __future__ import annotations

from django.db.models import Q

from maillage.directory.models import Structure
from maillage.fhir.interactions.common import uuid_or_404
from maillage.fhir.interactions.structures import (
    SORT_FIELDS,
    name_test,
    structure_criteria,
    structures,
)
from maillage.fhir.mapping.directory import location_resource
from maillage.fhir.outcome import FhirError
from maillage.fhir.result import FhirResult, Json
from maillage.fhir.router import Call, Interaction, Route
from maillage.fhir.search import (
    Match,
    Near,
    ParamType,
    SearchParam,
    SearchQuery,
    all_of,
    general_params,
    near,
    page_filtered,
    reference_id,
    searchset,
)
from maillage.fhir.systems import (
    EQUIPMENT_EXTENSION,
    FR_CORE_LOCATION,
    LOCATION_DISTANCE_EXTENSION,
    STRUCTURE_KIND_SYSTEM,
    UCUM,
)
from maillage.lib.geo import bounding_box
from maillage.territory.distance import get_distance_provider

SEARCH_PARAMS = (
    SearchParam("name", ParamType.STRING, "Start of a word of the name."),
    SearchParam("address-city", ParamType.STRING, "Start of a word of the commune's name."),
    SearchParam("organization", ParamType.REFERENCE, "Organization/id of the structure."),
    SearchParam("type", ParamType.TOKEN, f"Kind of structure ({STRUCTURE_KIND_SYSTEM})."),
    SearchParam(
        "near",
        ParamType.SPECIAL,
        "latitude|longitude|distance|km: places within that distance (road estimate of "
        "the distance provider, default 50 km), nearest first.",
        single=True,
    ),
    *general_params(sort=tuple(SORT_FIELDS), include=("Location:organization",)),
)


def read(call: Call) -> FhirResult:
    structure = (
        Structure.objects.select_related("commune")
        .prefetch_related("equipment")
        .filter(uuid=uuid_or_404(call.resource_id))
        .first()
    )
    if structure is None:
        raise FhirError(404)
    return FhirResult(location_resource(structure))


def _organization_q(value: str) -> Q:
    # A structure is its own managing organization: same id.
    wanted = reference_id("organization", value, "Organization")
    return Q(uuid=wanted) if wanted else Q(pk__in=[])


def _distance_extension(distance_km: float) -> Json:
    return {
        "url": LOCATION_DISTANCE_EXTENSION,
        "valueDistance": {
            "value": round(distance_km, 3),
            "unit": "km",
            "system": UCUM,
            "code": "km",
        },
    }


def _nearest(rows: list[Structure], origin: Near, query: SearchQuery) -> tuple[list[Match], int]:
    """Rows within the distance, nearest first (or in _sort order), one page of them."""
    provider = get_distance_provider()
    points = [s.commune.point for s in rows]
    distances = provider.matrix_km([origin.point], points)[0] if rows else []
    within = [
        (distance, structure)
        for structure, distance in zip(rows, distances, strict=True)
        if distance <= origin.radius_km
    ]
    if not query.sort:
        # Nearest first, unless _sort asked for another order (the rows' own).
        within.sort(key=lambda item: (item[0], item[1].name, item[1].pk))
    shown = within[query.offset : query.offset + query.count]
    matches = [Match(location_resource(s), (_distance_extension(d),)) for d, s in shown]
    return matches, len(within)


def search(call: Call) -> FhirResult:
    query = call.query
    rows = (
        structures(query)
        .prefetch_related("equipment")
        .filter(structure_criteria(query) & all_of(query, "organization", _organization_q))
    )
    raw_near = query.first("near")
    passes = name_test(query)
    if raw_near is None:
        found, total = page_filtered(rows, query, passes, ("name",))
        return searchset(call, [Match(location_resource(s)) for s in found], total)
    origin = near("near", raw_near)
    # Roads are never shorter than the straight line (maillage.territory.distance),
    # so the box of the radius cannot leave out a place within it.
    box = bounding_box(origin.point, origin.radius_km)
    boxed = rows.filter(
        commune__latitude__range=(box.min_latitude, box.max_latitude),
        commune__longitude__range=(box.min_longitude, box.max_longitude),
    )
    candidates = [s for s in boxed if passes is None or passes({"name": s.name})]
    matches, total = _nearest(candidates, origin, query)
    return searchset(call, matches, total)


ROUTES = (
    Route(Interaction.READ, read, "Location", profile=FR_CORE_LOCATION),
    Route(
        Interaction.SEARCH_TYPE,
        search,
        "Location",
        SEARCH_PARAMS,
        profile=FR_CORE_LOCATION,
        documentation=(
            "The position is the commune's centroid. Equipment is listed in our extension "
            f"{EQUIPMENT_EXTENSION}, one valueCodeableConcept per device; a near search adds "
            f"the distance to each entry's search element ({LOCATION_DISTANCE_EXTENSION})."
        ),
    ),
)
