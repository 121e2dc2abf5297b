from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from maillage.front.input_limits import bounded_text
from maillage.territory.queries import MAX_TYPED_CHARS, suggest_communes


@login_required
@require_GET
def commune_suggestions(request: HttpRequest) -> HttpResponse:
    """<option>s for the communes datalist, fetched by htmx as people type."""
    typed = bounded_text(request.GET, "commune", MAX_TYPED_CHARS)
    return render(request, "territory/commune_options.html", {"communes": suggest_communes(typed)})
