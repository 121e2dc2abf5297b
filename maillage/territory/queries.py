"""Finding communes from what people type."""

from __future__ import annotations

import re

from django.db.models import QuerySet

from maillage.lib.names import normalise_name
from maillage.territory.models import Commune

_WITH_DEPARTEMENT = re.compile(r"^(?P<name>.+?)\s*\((?P<dep>\w{2,3})\)\s*$")


def find_communes(typed: str) -> QuerySet[Commune]:
    """Communes matching a typed name, "Name (18)" or an INSEE code.

    More than one result means the name is ambiguous; none means unknown.
    """
    typed = typed.strip()
    if not typed:
        return Commune.objects.none()
    if re.fullmatch(r"\d[\dAB]\d{3}", typed.upper()):
        return Commune.objects.filter(insee_code=typed.upper())
    match = _WITH_DEPARTEMENT.match(typed)
    if match:
        return Commune.objects.filter(
            search_name=normalise_name(match["name"]), departement=match["dep"]
        )
    return Commune.objects.filter(search_name=normalise_name(typed))


def suggest_communes(prefix: str, limit: int = 10) -> QuerySet[Commune]:
    key = normalise_name(prefix)
    if len(key) < 2:
        return Commune.objects.none()
    return Commune.objects.filter(search_name__startswith=key).order_by("-population")[:limit]
