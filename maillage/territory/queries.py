"""Finding communes from what people type.

What people type is read with plain string methods, each a single pass over
the text: no regular expression, so no input can make the parsing backtrack
(a regex like ``.+?\\s*\\(`` took seconds on "a" + 40 000 spaces + "a").
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from maillage.lib.names import normalise_name
from maillage.territory.models import Commune

# The longest commune name of France has 45 characters; the field allows more
# for "Name (18)" and stray spaces, and anything longer names no commune.
MAX_TYPED_CHARS = 120
_INSEE_SECOND = frozenset("0123456789AB")


@dataclass(frozen=True)
class TypedCommune:
    """What a typed commune says: an INSEE code, or a name and maybe its département."""

    insee_code: str = ""
    name: str = ""
    departement: str = ""


def _is_insee_code(text: str) -> bool:
    """Five characters: a digit, a digit or A/B (Corsica), three digits."""
    return (
        len(text) == 5
        and text[0].isdigit()
        and text[1] in _INSEE_SECOND
        and text[2:].isdigit()
        and text.isascii()
    )


def _is_departement(text: str) -> bool:
    """Two or three word characters, as in "18", "2A" or "971"."""
    return 2 <= len(text) <= 3 and all(c.isalnum() or c == "_" for c in text)


def parse_typed_commune(typed: str) -> TypedCommune:
    """Read "Sancoins", "Sancoins (18)" or "18242"; linear in the length of ``typed``.

    Only the last "(" can open the département (what it encloses must be word
    characters), so one ``rfind`` finds it; ``strip``/``rstrip`` and the
    slices are single passes too.
    """
    text = typed.strip()
    if _is_insee_code(text.upper()):
        return TypedCommune(insee_code=text.upper())
    if text.endswith(")"):
        opening = text.rfind("(")
        name = text[:opening].rstrip() if opening > 0 else ""
        departement = text[opening + 1 : -1]
        if name and "\n" not in name and _is_departement(departement):
            return TypedCommune(name=name, departement=departement)
    return TypedCommune(name=text)


def find_communes(typed: str) -> QuerySet[Commune]:
    """Communes matching a typed name, "Name (18)" or an INSEE code.

    More than one result means the name is ambiguous; none means unknown.
    """
    if len(typed.strip()) > MAX_TYPED_CHARS:
        return Commune.objects.none()
    parsed = parse_typed_commune(typed)
    if parsed.insee_code:
        return Commune.objects.filter(insee_code=parsed.insee_code)
    if not parsed.name:
        return Commune.objects.none()
    found = Commune.objects.filter(search_name=normalise_name(parsed.name))
    if parsed.departement:
        found = found.filter(departement=parsed.departement)
    return found


def suggest_communes(prefix: str, limit: int = 10) -> QuerySet[Commune]:
    """Communes whose name starts with what is typed, the most populated first."""
    if len(prefix) > MAX_TYPED_CHARS:
        return Commune.objects.none()
    key = normalise_name(prefix)
    if len(key) < 2:
        return Commune.objects.none()
    return Commune.objects.filter(search_name__startswith=key).order_by("-population")[:limit]
