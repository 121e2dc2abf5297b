"""Search criteria shared by Organization and Location (both are a Structure)."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q, QuerySet

from maillage.directory.models import Structure
from maillage.fhir.search import (
    Row,
    SearchQuery,
    all_of,
    ids_q,
    ordering,
    period_q,
    search_term,
    text_test,
    token,
)
from maillage.fhir.systems import STRUCTURE_KIND_SYSTEM

NAME_FIELDS = ("name",)
# _sort keys of Organization and Location, both a Structure.
SORT_FIELDS = {
    "name": ("name",),
    "address-city": ("commune__name",),
    "type": ("kind",),
    "_lastUpdated": ("updated_at",),
    "_id": ("uuid",),
}


def _type_q(value: str) -> Q:
    wanted = token(value)
    if wanted.system not in (None, STRUCTURE_KIND_SYSTEM):
        return Q(pk__in=[])
    return Q(kind=wanted.code)


def _city_q(value: str) -> Q:
    # Communes keep an accent-free name for lookups (maillage.territory.models).
    term = search_term("address-city", value)
    return Q(commune__search_name__startswith=term) | Q(commune__search_name__contains=f" {term}")


def structure_criteria(query: SearchQuery) -> Q:
    return (
        all_of(query, "type", _type_q)
        & all_of(query, "address-city", _city_q)
        & ids_q(query)
        & period_q(query, "_lastUpdated", "updated_at")
    )


def name_test(query: SearchQuery) -> Callable[[Row], bool] | None:
    return text_test(query, {"name": lambda row: row["name"]})


def structures(query: SearchQuery) -> QuerySet[Structure]:
    return Structure.objects.select_related("commune").order_by(
        *ordering(query, SORT_FIELDS, ("name", "pk"))
    )
