"""Reading the directory: a user's structures and the professional search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from maillage.directory.models import Practice, Structure
from maillage.directory.terminology import specialty_family
from maillage.lib.geo import bounding_box
from maillage.lib.names import normalise_name
from maillage.territory.distance import get_distance_provider

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.directory.models import Professional
    from maillage.territory.models import Commune


def structures_of(user: User) -> QuerySet[Structure]:
    """Where a user works: their practices as a professional, or their staff posts."""
    return Structure.objects.filter(
        Q(practices__professional__user=user) | Q(staff=user)
    ).distinct()


@dataclass(frozen=True)
class ProfessionalHit:
    professional: Professional
    structures: tuple[Structure, ...]
    distance_km: float | None


@dataclass(frozen=True)
class DirectoryQuery:
    profession: str = ""
    specialty: str = ""
    name: str = ""
    origin: Commune | None = None
    radius_km: float | None = None
    teleexpertise_only: bool = False


def search_professionals(query: DirectoryQuery) -> list[ProfessionalHit]:
    """Active professionals matching the query, nearest first when a place is given.

    The distance is the provider's (road estimate by default) from the
    commune to the nearest structure where the professional works.
    """
    practices = Practice.objects.filter(
        professional__active=True, structure__active=True
    ).select_related("professional", "structure__commune")
    if query.profession:
        practices = practices.filter(professional__profession=query.profession)
    if query.specialty:
        practices = practices.filter(professional__specialty__in=specialty_family(query.specialty))
    if query.teleexpertise_only:
        practices = practices.filter(professional__accepts_teleexpertise=True)
    if query.name:
        practices = practices.filter(professional__search_name__contains=normalise_name(query.name))
    if query.origin is not None and query.radius_km is not None:
        # Roads are never shorter than the straight line: the box cannot miss anyone.
        box = bounding_box(query.origin.point, query.radius_km)
        practices = practices.filter(
            structure__commune__latitude__range=(box.min_latitude, box.max_latitude),
            structure__commune__longitude__range=(box.min_longitude, box.max_longitude),
        )
    return _group_by_professional(list(practices), query)


def _group_by_professional(rows: list[Practice], query: DirectoryQuery) -> list[ProfessionalHit]:
    distances: list[float | None] = [None] * len(rows)
    if query.origin is not None and rows:
        provider = get_distance_provider()
        matrix = provider.matrix_km([query.origin.point], [p.structure.commune.point for p in rows])
        distances = list(matrix[0])
    grouped: dict[int, tuple[Professional, list[tuple[float | None, Structure]]]] = {}
    for practice, distance in zip(rows, distances, strict=True):
        entry = grouped.setdefault(practice.professional_id, (practice.professional, []))
        entry[1].append((distance, practice.structure))
    hits = []
    for professional, places in grouped.values():
        places.sort(key=lambda item: (item[0] is None, item[0] or 0.0, item[1].name))
        nearest = places[0][0]
        if query.radius_km is not None and (nearest is None or nearest > query.radius_km):
            continue
        hits.append(ProfessionalHit(professional, tuple(s for _, s in places), nearest))
    hits.sort(
        key=lambda h: (
            h.distance_km is None,
            h.distance_km or 0.0,
            h.professional.last_name,
            h.professional.first_name,
        )
    )
    return hits


@dataclass(frozen=True)
class StructureQuery:
    kind: str = ""
    equipment: tuple[str, ...] = ()
    name: str = ""
    origin: Commune | None = None
    radius_km: float | None = None


@dataclass(frozen=True)
class StructureHit:
    structure: Structure
    distance_km: float | None


def search_structures(query: StructureQuery) -> list[StructureHit]:
    """Active structures matching the query, nearest first when a place is given."""
    structures = Structure.objects.filter(active=True).select_related("commune")
    if query.kind:
        structures = structures.filter(kind=query.kind)
    for kind in query.equipment:
        structures = structures.filter(equipment__kind=kind)
    if query.name:
        structures = structures.filter(name__icontains=query.name.strip())
    if query.origin is not None and query.radius_km is not None:
        box = bounding_box(query.origin.point, query.radius_km)
        structures = structures.filter(
            commune__latitude__range=(box.min_latitude, box.max_latitude),
            commune__longitude__range=(box.min_longitude, box.max_longitude),
        )
    rows = list(structures.prefetch_related("equipment").distinct())
    if query.origin is None:
        return [StructureHit(s, None) for s in sorted(rows, key=lambda s: s.name)]
    matrix = get_distance_provider().matrix_km(
        [query.origin.point], [s.commune.point for s in rows]
    )
    hits = [
        StructureHit(s, d)
        for s, d in zip(rows, matrix[0] if rows else [], strict=True)
        if query.radius_km is None or d <= query.radius_km
    ]
    hits.sort(key=lambda h: (h.distance_km, h.structure.name))
    return hits
