from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from maillage.directory.forms import ProfessionalSearchForm, StructureSearchForm
from maillage.directory.models import Professional, Structure
from maillage.directory.queries import (
    DirectoryQuery,
    StructureQuery,
    search_professionals,
    search_structures,
)

PAGE_SIZE = 20
T = TypeVar("T")


def _page(request: HttpRequest, hits: Sequence[T]) -> Page[T]:
    return Paginator(hits, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    form = ProfessionalSearchForm(request.GET or None)
    page = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        hits = search_professionals(
            DirectoryQuery(
                profession=data["profession"],
                specialty=data["specialty"],
                name=data["name"],
                origin=data["commune"],
                radius_km=data["radius"],
                teleexpertise_only=data["teleexpertise"],
            )
        )
        page = _page(request, hits)
    return render(
        request,
        "directory/search.html",
        {"form": form, "page": page, "query": _query_without_page(request)},
    )


@login_required
@require_GET
def structures(request: HttpRequest) -> HttpResponse:
    form = StructureSearchForm(request.GET or None)
    page = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        hits = search_structures(
            StructureQuery(
                kind=data["kind"],
                equipment=tuple(data["equipment"]),
                name=data["name"],
                origin=data["commune"],
                radius_km=data["radius"],
            )
        )
        page = _page(request, hits)
    return render(
        request,
        "directory/structures.html",
        {"form": form, "page": page, "query": _query_without_page(request)},
    )


@login_required
@require_GET
def professional_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    professional = get_object_or_404(Professional.objects.filter(active=True), uuid=uuid)
    practices = professional.practices.select_related("structure__commune")
    return render(
        request,
        "directory/professional.html",
        {"professional": professional, "practices": practices},
    )


@login_required
@require_GET
def structure_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    structure = get_object_or_404(
        Structure.objects.filter(active=True).select_related("commune"), uuid=uuid
    )
    professionals = Professional.objects.filter(practices__structure=structure, active=True)
    return render(
        request,
        "directory/structure.html",
        {
            "structure": structure,
            "equipment": structure.equipment.all(),
            "professionals": professionals,
        },
    )
