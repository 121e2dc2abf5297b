"""A page of a queryset and how many rows match in all, in one statement."""

from __future__ import annotations

from typing import TypeVar

from django.core.paginator import Page, Paginator
from django.db.models import Count, Model, QuerySet, Window

M = TypeVar("M", bound=Model)

# The annotation carrying the window count; no model has a field of that name.
_TOTAL = "matching_total"


def page_and_total(matching: QuerySet[M], offset: int, limit: int) -> tuple[list[M], int]:
    """One page of ``matching`` and how many rows match in all (a window count).

    When the filter is the cost (the policy's relations over a name's
    candidates, or over a user's threads), a count and then a page ran it
    twice. Past the last page, or for no page at all (FHIR's ``_count=0``),
    there is no row to carry the count, so it is asked on its own.
    """
    if limit <= 0:
        return [], matching.count()
    counted = matching.annotate(**{_TOTAL: Window(Count("pk"))})
    rows: list[M] = list(counted[offset : offset + limit])
    if rows:
        return rows, int(getattr(rows[0], _TOTAL))
    return rows, matching.count() if offset else 0


def counted_page(matching: QuerySet[M], number: int, per_page: int) -> Page[M]:
    """Page ``number`` (from 1) as ``Paginator.get_page`` gives it, from ``page_and_total``.

    A number past the last page gives the last page, as ``get_page`` does;
    that costs a second statement, the usual case one.
    """
    rows, total = page_and_total(matching, (number - 1) * per_page, per_page)
    paginator: Paginator[M] = Paginator([], per_page, allow_empty_first_page=True)
    # Paginator.count is a cached property: the total is already known.
    paginator.__dict__["count"] = total
    if not rows and number > paginator.num_pages:
        number = paginator.num_pages
        rows, _ = page_and_total(matching, (number - 1) * per_page, per_page)
    return Page(rows, number, paginator)
