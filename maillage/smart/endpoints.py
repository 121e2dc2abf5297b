"""Where the SMART endpoints are, as absolute URLs, and what the server supports.

One source for ``/fhir/r4/.well-known/smart-configuration`` and for the
CapabilityStatement's ``rest.security``, so the two never disagree.
"""

from __future__ import annotations

from django.urls import reverse

from maillage.smart.descriptions import SUPPORTED

OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
CAPABILITIES = (
    "launch-standalone",
    "client-public",
    "client-confidential-symmetric",
    "context-standalone-patient",
    "permission-v2",
    "permission-v1",
    "permission-patient",
    "permission-user",
    "permission-offline",
    "sso-openid-connect",
)
GRANT_TYPES = ("authorization_code", "client_credentials", "refresh_token")


def site_of(fhir_base_url: str) -> str:
    """The site's absolute root, from the FHIR base URL (public URL or request host)."""
    fhir_path = reverse("fhir:base").rstrip("/")
    if fhir_base_url.endswith(fhir_path):
        return fhir_base_url[: -len(fhir_path)]
    return fhir_base_url


def endpoints(fhir_base_url: str) -> dict[str, str]:
    site = site_of(fhir_base_url)
    return {
        "issuer": site + reverse("oauth2_provider:authorize").removesuffix("/authorize/"),
        "jwks_uri": site + reverse("oauth2_provider:jwks-info"),
        "authorization_endpoint": site + reverse("oauth2_provider:authorize"),
        "token_endpoint": site + reverse("oauth2_provider:token"),
        "revocation_endpoint": site + reverse("oauth2_provider:revoke-token"),
        "userinfo_endpoint": site + reverse("oauth2_provider:user-info"),
        "management_endpoint": site + reverse("smart:apps"),
    }


def smart_configuration(fhir_base_url: str) -> dict[str, object]:
    urls = endpoints(fhir_base_url)
    return {
        **urls,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": list(GRANT_TYPES),
        "response_types_supported": ["code"],
        "scopes_supported": list(SUPPORTED),
        "code_challenge_methods_supported": ["S256"],
        "capabilities": list(CAPABILITIES),
    }


def security_extension(fhir_base_url: str) -> dict[str, object]:
    """The oauth-uris extension of CapabilityStatement.rest.security (SMART, fhirclient)."""
    urls = endpoints(fhir_base_url)
    return {
        "url": OAUTH_URIS,
        "extension": [
            {"url": "authorize", "valueUri": urls["authorization_endpoint"]},
            {"url": "token", "valueUri": urls["token_endpoint"]},
            {"url": "revoke", "valueUri": urls["revocation_endpoint"]},
            {"url": "manage", "valueUri": urls["management_endpoint"]},
        ],
    }
