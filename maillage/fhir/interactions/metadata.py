"""GET metadata: the CapabilityStatement, derived from the routes themselves."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version

from django.utils import timezone
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from maillage.fhir.outcome import fhir_json_bytes
from maillage.fhir.result import FhirResult, Json
from maillage.fhir.router import NOT_RESTFUL, Call, Interaction, Route
from maillage.fhir.search import PAGING_PARAMS
from maillage.fhir.validation import emit
from maillage.smart.endpoints import security_extension

FHIR_VERSION = "4.0.1"
SECURITY_SERVICE = "http://terminology.hl7.org/CodeSystem/restful-security-service"
SECURITY = (
    "Every interaction but metadata needs a bearer token, sent as 'Authorization: Bearer "
    "<token>': an OAuth access token of a SMART app (SMART App Launch 2.0: authorization code "
    "with PKCE S256, client credentials for system clients; see "
    ".well-known/smart-configuration), or an API token of a Maillage account for scripts. "
    "Session cookies are not accepted. An app's scopes only narrow its user's rights. What a "
    "token may read follows its account's role: patients and their shared record only through the "
    "access gates, with the patient's consents and the habilitation matrix applied (a "
    "refusal answers 404); consents and the access trail to the patient alone; directory "
    "resources for every account. Every access to a patient is audited."
)


def _software_version() -> str:
    try:
        return version("maillage")
    except PackageNotFoundError:
        return "dev"


def _operations(routes: Sequence[Route]) -> list[Json]:
    return [
        {"name": r.operation, "definition": r.definition, "documentation": r.documentation}
        for r in routes
        if r.operation
    ]


def _resource(resource_type: str, routes: Sequence[Route]) -> Json:
    interactions = []
    for route in routes:
        if route.interaction in NOT_RESTFUL:
            continue
        interaction: Json = {"code": route.interaction.value}
        if route.documentation:
            interaction["documentation"] = route.documentation
        interactions.append(interaction)
    resource: Json = {"type": resource_type, "interaction": interactions}
    resource.update(_versioning({route.interaction for route in routes}))
    resource.update(_conditional(routes))
    profile = next((r.profile for r in routes if r.profile), "")
    if profile:
        resource["supportedProfile"] = [profile]
    search_params = [
        {"name": p.name, "type": p.type.value, "documentation": p.documentation}
        for route in routes
        for p in route.search_params
    ]
    if operations := _operations(routes):
        resource["operation"] = operations
    for name, element in (("_include", "searchInclude"), ("_revinclude", "searchRevInclude")):
        values = [
            v for route in routes for p in route.search_params if p.name == name for v in p.values
        ]
        if values:
            resource[element] = values
    if search_params:
        resource["searchParam"] = search_params
        resource["documentation"] = (
            f"Searches page with {' and '.join(PAGING_PARAMS)} (20 by default, 100 at most); "
            "unknown parameters are refused (400)."
        )
    return resource


# System-level interactions as the CapabilityStatement names them: one route
# answers both kinds of Bundle posted to the base.
SYSTEM_CODES = {Interaction.TRANSACTION: ("transaction", "batch")}


def _system_interactions(routes: Sequence[Route]) -> list[Json]:
    return [
        {"code": code, "documentation": route.documentation}
        for route in routes
        for code in SYSTEM_CODES.get(route.interaction, ())
    ]


def _versioning(interactions: set[Interaction]) -> Json:
    """What the routes of a type do with versions (every resource has meta.versionId)."""
    versioning: Json = {
        "versioning": "versioned-update" if Interaction.UPDATE in interactions else "versioned",
        "readHistory": Interaction.VREAD in interactions,
    }
    if Interaction.UPDATE in interactions:
        versioning["updateCreate"] = False
    return versioning


def _conditional(routes: Sequence[Route]) -> Json:
    creates = [r for r in routes if r.interaction is Interaction.CREATE]
    return {"conditionalCreate": any(r.conditional for r in creates)} if creates else {}


def capability_statement(routes: Sequence[Route], base_url: str) -> Json:
    by_type: dict[str, list[Route]] = {}
    for route in routes:
        if route.resource_type:
            by_type.setdefault(route.resource_type, []).append(route)
    data: Json = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.now().isoformat(),
        "publisher": "Maillage",
        "kind": "instance",
        "software": {"name": "Maillage", "version": _software_version()},
        "implementation": {"description": "Maillage FHIR R4 API", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    # For the origins registered apps list (maillage.smart.cors).
                    "cors": True,
                    "extension": [security_extension(base_url)],
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": SECURITY_SERVICE,
                                    "code": "SMART-on-FHIR",
                                    "display": "SMART-on-FHIR",
                                }
                            ],
                            "text": "OAuth2 using SMART-on-FHIR profile; Bearer token",
                        }
                    ],
                    "description": SECURITY,
                },
                "resource": [_resource(t, rs) for t, rs in by_type.items()],
                "interaction": _system_interactions(routes),
            }
        ],
    }
    if system_operations := _operations([r for r in routes if not r.resource_type]):
        data["rest"][0]["operation"] = system_operations
    return emit(CapabilityStatement, data)


# Validating the statement by its model cost about 30 ms a request (80 % of
# ``metadata``); nothing in it changes while the process lives but the base
# URL it names (the public URL, or the Host the request came to), hence one
# entry per base URL. Hosts are limited by ALLOWED_HOSTS, and the bound keeps
# a proxy passing odd hosts from growing the cache. The body is JSON only
# (``_format`` and Accept choose among JSON media types), so the format is
# not part of the key. Its ``date`` is when the process built it.
@lru_cache(maxsize=16)
def _cached_statement(routes: tuple[Route, ...], base_url: str) -> tuple[Json, bytes]:
    statement = capability_statement(routes, base_url)
    return statement, fhir_json_bytes(statement)


def metadata(call: Call) -> FhirResult:
    statement, encoded = _cached_statement(call.routes, call.request.base_url)
    return FhirResult(statement, encoded=encoded)


ROUTES = (Route(Interaction.CAPABILITIES, metadata, public=True),)
