"""Content negotiation: we speak FHIR R4 JSON only, in and out.

A media type may name the FHIR version with its ``fhirVersion`` parameter
(FHIR R4 3.1.0.1.9, "Versioning"): 4.0 is ours; a client asking for another
version only gets a 406, never R4 in disguise.
"""

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


# The version this server speaks, as the fhirVersion parameter names it.
FHIR_VERSION = "4.0"


def _parameter(parameters: Sequence[str], wanted: str) -> str | None:
    """The value of a media-type parameter (case-insensitive name), None when absent."""
    for parameter in parameters:
        name, _sep, value = parameter.partition("=")
        if name.strip().lower() == wanted:
            return value.strip().strip('"')
    return None


def _quality(parameters: Sequence[str]) -> float:
    value = _parameter(parameters, "q")
    if value is None:
        return 1.0
    try:
        return float(value)
    except ValueError:
        return 1.0


def _other_version(parameters: Sequence[str]) -> str | None:
    """The FHIR version a media type names when it is not ours (4.0, or 4.0.x), else None."""
    version = _parameter(parameters, "fhirversion")
    if version is None or version == FHIR_VERSION or version.startswith(f"{FHIR_VERSION}."):
        return None
    return version


def accepts_json(accept: str) -> bool:
    """Whether an Accept header lets us answer in FHIR R4 JSON."""
    if not accept.strip():
        return True
    for media_range in accept.split(","):
        media_type, *parameters = media_range.split(";")
        if (
            media_type.strip().lower() in _ACCEPTING_RANGES
            and _quality(parameters) > 0
            and _other_version(parameters) is None
        ):
            return True
    return False


def _asked_versions(accept: str, formats: Sequence[str]) -> list[str]:
    """The other FHIR versions named by the _format values, else by Accept's ranges."""
    ranges = formats or accept.split(",")
    versions = (_other_version(r.split(";")[1:]) for r in ranges)
    return [v for v in versions if v is not None]


def _version_refused(version: str) -> FhirError:
    return FhirError(
        406,
        [
            Issue(
                _(
                    "This server speaks FHIR R4 only (fhirVersion=%(ours)s); "
                    "fhirVersion=%(asked)s was asked for."
                )
                % {"ours": FHIR_VERSION, "asked": shown(version, 20)},
                code="not-supported",
            )
        ],
    )


def check_accept(accept: str, query: Sequence[tuple[str, str]]) -> None:
    formats = [value for name, value in query if name == "_format"]
    refused = [f for f in formats if f.split(";")[0].strip().lower() not in _JSON_FORMATS]
    asked = _asked_versions(accept, formats)
    if formats and asked:
        raise _version_refused(asked[0])
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
        raise _version_refused(asked[0]) if asked else FhirError(406)


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
    charset = (_parameter(parameters, "charset") or "utf-8").lower()
    if media_type.strip().lower() not in JSON_TYPES or charset not in {"utf-8", "utf8"}:
        raise FhirError(415)
    version = _other_version(parameters)
    if version is not None:
        raise FhirError.single(
            415,
            _(
                "This server reads FHIR R4 only (fhirVersion=%(ours)s); the body says "
                "fhirVersion=%(sent)s."
            )
            % {"ours": FHIR_VERSION, "sent": shown(version, 20)},
            code="not-supported",
        )
