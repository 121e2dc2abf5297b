"""Reading the directory: a user's structures and the professional search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from maillage.directory.models import Practice, Structure
from maillage.directory.terminology import specialty_family
from maillage.lib.geo import GeoPoint, bounding_box
from maillage.lib.names import normalise_name
from maillage.territory.distance import get_distance_provider

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.directory.models import Professional
    from maillage.territory.models import Commune


def works_at_q(user: User, field: str) -> Q:
    """``field`` (a structure's id) is where the user works: a practice of theirs, or a staff post.

    Two id subqueries rather than joins with DISTINCT: each uses its index.
    A filter on another table's structure id (a patient's followers, an
    appointment) uses this, not ``structures_of``: going through the
    structures table cost an index probe per row, a fifth of the patient
    search at 500 000 patients.
    """
    from maillage.accounts.models import User

    practised = Practice.objects.filter(professional__user_id=user.pk).values("structure_id")
    staffed = User.structures.through.objects.filter(user_id=user.pk).values("structure_id")
    return Q(**{f"{field}__in": practised}) | Q(**{f"{field}__in": staffed})


def structures_of(user: User) -> QuerySet[Structure]:
    """Where a user works: their practices as a professional, or their staff posts."""
    return Structure.objects.filter(works_at_q(user, "pk"))


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


@dataclass(frozen=True)
class ProfessionalMatch:
    """A search result before its objects are loaded: ids, distance, sort key."""

    professional_id: int
    structure_ids: tuple[int, ...]  # nearest first
    distance_km: float | None
    sort_name: tuple[str, str]


def match_professionals(query: DirectoryQuery) -> list[ProfessionalMatch]:
    """Active professionals matching the query, nearest first when a place is given.

    Works on plain columns (no model objects): a broad search matches thousands
    of practices and only a page of them is shown (see ``hydrate``). The
    distance is the provider's (road estimate by default) from the commune to
    the nearest structure where the professional works.
    """
    practices = Practice.objects.filter(professional__active=True, structure__active=True)
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
    rows = list(
        practices.values_list(
            "professional_id",
            "structure_id",
            "structure__name",
            "structure__commune__latitude",
            "structure__commune__longitude",
            "professional__last_name",
            "professional__first_name",
        )
    )
    distances: list[float | None] = [None] * len(rows)
    if query.origin is not None and rows:
        # Distances are those of communes: asked once for each (a broad
        # search has about three practices per commune), then spread.
        points = list(dict.fromkeys(GeoPoint(r[3], r[4]) for r in rows))
        by_point = dict(
            zip(
                points,
                get_distance_provider().matrix_km([query.origin.point], points)[0],
                strict=True,
            )
        )
        distances = [by_point[GeoPoint(r[3], r[4])] for r in rows]
    grouped: dict[int, list[tuple[float | None, str, int]]] = {}
    names: dict[int, tuple[str, str]] = {}
    for row, distance in zip(rows, distances, strict=True):
        grouped.setdefault(row[0], []).append((distance, row[2], row[1]))
        names[row[0]] = (row[5], row[6])
    matches = []
    for professional_id, places in grouped.items():
        places.sort(key=lambda p: (p[0] is None, p[0] or 0.0, p[1]))
        nearest = places[0][0]
        if (
            query.radius_km is not None
            and query.origin is not None
            and (nearest is None or nearest > query.radius_km)
        ):
            continue
        matches.append(
            ProfessionalMatch(
                professional_id, tuple(p[2] for p in places), nearest, names[professional_id]
            )
        )
    matches.sort(key=lambda m: (m.distance_km is None, m.distance_km or 0.0, m.sort_name))
    return matches


def hydrate(matches: Sequence[ProfessionalMatch]) -> list[ProfessionalHit]:
    """Load the objects of a page of matches, in two queries, keeping the order."""
    from maillage.directory.models import Professional

    professionals = Professional.objects.in_bulk([m.professional_id for m in matches])
    structures = Structure.objects.select_related("commune").in_bulk(
        [sid for m in matches for sid in m.structure_ids]
    )
    return [
        ProfessionalHit(
            professionals[m.professional_id],
            tuple(structures[sid] for sid in m.structure_ids),
            m.distance_km,
        )
        for m in matches
    ]


def search_professionals(query: DirectoryQuery) -> list[ProfessionalHit]:
    """Every match with its objects loaded (for small result sets and tests)."""
    return hydrate(match_professionals(query))


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
