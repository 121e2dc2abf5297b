"""Content negotiation: we speak FHIR JSON only, in and out."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from maillage.fhir.outcome import FhirError, Issue
from maillage.fhir.search import shown

# application/json+fhir is the DSTU2 name some clients still send.
JSON_TYPES = frozenset({"application/fhir+json", "application/json", "application/json+fhir"})
_ACCEPTING_RANGES = JSON_TYPES | {"*/*", "application/*"}
# Values of _format (FHIR R4 3.1.0.1.10) that mean JSON.
_JSON_FORMATS = JSON_TYPES | {"json"}


def _quality(parameters: Sequence[str]) -> float:
    for parameter in parameters:
        name, _sep, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 1.0
    return 1.0


def accepts_json(accept: str) -> bool:
    """Whether an Accept header lets us answer in FHIR JSON."""
    if not accept.strip():
        return True
    for media_range in accept.split(","):
        media_type, *parameters = media_range.split(";")
        if media_type.strip().lower() in _ACCEPTING_RANGES and _quality(parameters) > 0:
            return True
    return False


def check_accept(accept: str, query: Sequence[tuple[str, str]]) -> None:
    formats = [value for name, value in query if name == "_format"]
    refused = [f for f in formats if f.split(";")[0].strip().lower() not in _JSON_FORMATS]
    if refused:
        raise FhirError(
            406,
            [
                Issue(
                    _(
                        "The format %(format)s is not supported: this server answers in "
                        "application/fhir+json only."
                    )
                    % {"format": shown(refused[0])},
                    code="not-supported",
                )
            ],
        )
    if not formats and not accepts_json(accept):
        raise FhirError(406)


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for media_range in accept.split(","):
        media_type, *parameters = media_range.split(";")
        if media_type.strip():
            ranges.append((media_type.strip().lower(), _quality(parameters)))
    return ranges


def asks_for_fhir(accept: str, query: Sequence[tuple[str, str]]) -> bool:
    """Whether a Binary read asks for the Binary resource rather than its content.

    FHIR R4 (Binary, "Serving Binary Resources using the RESTful API"): the
    resource only when the FHIR JSON type is asked for explicitly, by Accept or
    _format; otherwise the content in its own media type.
    """
    formats = [value.split(";")[0].strip().lower() for name, value in query if name == "_format"]
    if formats:
        return True
    return any(media_type in JSON_TYPES and q > 0 for media_type, q in _ranges(accept))


def accepts_media_type(accept: str, media_type: str) -> bool:
    """Whether an Accept header lets us answer with content of ``media_type``."""
    if not accept.strip():
        return True
    family = media_type.split("/")[0].lower()
    wanted = {media_type.lower(), f"{family}/*", "*/*"}
    return any(r in wanted and q > 0 for r, q in _ranges(accept))


def check_content_type(content_type: str) -> None:
    media_type, *parameters = content_type.split(";")
    charset = next(
        (
            value.strip().strip('"').lower()
            for name, _sep, value in (p.partition("=") for p in parameters)
            if name.strip().lower() == "charset"
        ),
        "utf-8",
    )
    if media_type.strip().lower() not in JSON_TYPES or charset not in {"utf-8", "utf8"}:
        raise FhirError(415)
