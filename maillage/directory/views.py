from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from maillage.directory.forms import ProfessionalSearchForm, StructureSearchForm
from maillage.directory.models import Professional, Structure
from maillage.directory.queries import (
    DirectoryQuery,
    StructureQuery,
    hydrate,
    match_professionals,
    search_structures,
)
from maillage.front.input_limits import page_number
from maillage.policy.messages import may_use_messaging

PAGE_SIZE = 20
T = TypeVar("T")


def _page(request: HttpRequest, hits: Sequence[T]) -> Page[T]:
    return Paginator(hits, PAGE_SIZE).get_page(page_number(request.GET))


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _search_page(
    request: HttpRequest,
    form: forms.Form,
    run: Callable[[dict[str, Any]], Sequence[object]],
    *,
    tab: str,
    search_label: str,
    results_template: str,
    load: Callable[[Sequence[Any]], Sequence[object]] | None = None,
) -> HttpResponse:
    page = None
    if form.is_bound and form.is_valid():
        page = _page(request, run(form.cleaned_data))
        if load is not None:
            # Objects are loaded for the shown page only, not for every match.
            page.object_list = load(list(page.object_list))
    return render(
        request,
        "directory/search.html",
        {
            "form": form,
            "page": page,
            "query": _query_without_page(request),
            "tab": tab,
            "search_label": search_label,
            "results_template": results_template,
        },
    )


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    return _search_page(
        request,
        ProfessionalSearchForm(request.GET or None),
        lambda data: match_professionals(
            DirectoryQuery(
                profession=data["profession"],
                specialty=data["specialty"],
                name=data["name"],
                origin=data["commune"],
                radius_km=data["radius"],
                teleexpertise_only=data["teleexpertise"],
            )
        ),
        tab="professionals",
        search_label=_("Search professionals"),
        results_template="directory/_professional_results.html",
        load=hydrate,
    )


@login_required
@require_GET
def structures(request: HttpRequest) -> HttpResponse:
    return _search_page(
        request,
        StructureSearchForm(request.GET or None),
        lambda data: search_structures(
            StructureQuery(
                kind=data["kind"],
                equipment=tuple(data["equipment"]),
                name=data["name"],
                origin=data["commune"],
                radius_km=data["radius"],
            )
        ),
        tab="structures",
        search_label=_("Search structures"),
        results_template="directory/_structure_results.html",
    )


@login_required
@require_GET
def professional_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    professional = get_object_or_404(Professional.objects.filter(active=True), uuid=uuid)
    practices = professional.practices.select_related("structure__commune")
    return render(
        request,
        "directory/professional.html",
        {
            "professional": professional,
            "practices": practices,
            "can_write": may_use_messaging(request.user),  # type: ignore[arg-type]
        },
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
