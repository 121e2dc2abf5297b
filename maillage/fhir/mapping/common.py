"""Small FHIR building blocks shared by the mappers."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from maillage.fhir.result import Json
from maillage.fhir.systems import COMMUNE_SYSTEM, INSEE_CODE_EXTENSION

if TYPE_CHECKING:
    from maillage.territory.models import Commune


def coding(system: str, code: str, display: str = "") -> Json:
    result: Json = {"system": system, "code": code}
    if display:
        result["display"] = display
    return result


def concept(system: str, code: str, display: str = "") -> Json:
    return {"coding": [coding(system, code, display)]}


def reference(resource_type: str, resource_id: object, display: str = "") -> Json:
    result: Json = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        result["display"] = display
    return result


def meta(last_updated: dt.datetime, version: int = 1, profile: str = "") -> Json:
    """Every resource says which version it is and when it was last changed.

    A resource kind that keeps no versions and never changes is at version
    1, last updated when it was created (maillage.fhir.versions).
    """
    result: Json = {"versionId": str(version), "lastUpdated": last_updated.isoformat()}
    if profile:
        result["profile"] = [profile]
    return result


def insee_code_extension(code: str) -> Json:
    # Born abroad: 99 and the country code, which is not a commune of TRE_R13.
    value = {"code": code} if code.startswith("99") else coding(COMMUNE_SYSTEM, code)
    return {"url": INSEE_CODE_EXTENSION, "valueCoding": value}


def commune_address(
    commune: Commune | None, line: str = "", postal_code: str = "", use: str = ""
) -> Json | None:
    """An Address from a line and a commune (name and INSEE code); None when empty."""
    address: Json = {}
    if use:
        address["use"] = use
    if line:
        address["line"] = [line]
    if commune is not None:
        address["extension"] = [insee_code_extension(commune.insee_code)]
        address["city"] = commune.name
    if postal_code:
        address["postalCode"] = postal_code
    if not (line or commune is not None or postal_code):
        return None
    address["country"] = "FR"
    return address


def compact(items: list[Json | None]) -> list[Json]:
    return [item for item in items if item]
