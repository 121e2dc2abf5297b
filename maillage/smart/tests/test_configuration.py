"""What an app reads to connect: smart-configuration and the CapabilityStatement's security."""

from __future__ import annotations

from typing import Any

from django.test import Client

from maillage.audit.models import AuditEntry
from maillage.fhir.tests.conftest import BASE, fhir_json
from maillage.smart.endpoints import OAUTH_URIS

SITE = "http://testserver"


def test_it_publishes_the_smart_configuration_without_authentication(db):
    response = Client().get(f"{BASE}/.well-known/smart-configuration")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    config = response.json()
    assert config["issuer"] == f"{SITE}/o"
    assert config["authorization_endpoint"] == f"{SITE}/o/authorize/"
    assert config["token_endpoint"] == f"{SITE}/o/token/"
    assert config["revocation_endpoint"] == f"{SITE}/o/revoke_token/"
    assert config["jwks_uri"] == f"{SITE}/o/.well-known/jwks.json"
    assert config["management_endpoint"] == f"{SITE}/applications/"
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert set(config["grant_types_supported"]) == {
        "authorization_code",
        "client_credentials",
        "refresh_token",
    }
    for capability in (
        "launch-standalone",
        "client-public",
        "client-confidential-symmetric",
        "context-standalone-patient",
        "permission-v2",
        "permission-patient",
        "permission-user",
        "sso-openid-connect",
    ):
        assert capability in config["capabilities"]
    assert {"openid", "fhirUser", "offline_access", "patient/*.rs", "system/*.rs"} <= set(
        config["scopes_supported"]
    )
    assert not AuditEntry.objects.exists()


def test_its_issuer_is_the_one_of_openid_discovery(db):
    smart = Client().get(f"{BASE}/.well-known/smart-configuration").json()
    oidc = Client().get("/o/.well-known/openid-configuration").json()

    assert smart["issuer"] == oidc["issuer"]
    assert smart["jwks_uri"] == oidc["jwks_uri"]


def test_it_follows_the_public_url(db, settings):
    settings.MAILLAGE_PUBLIC_URL = "https://maillage.example"

    config = Client().get(f"{BASE}/.well-known/smart-configuration").json()

    assert config["authorization_endpoint"] == "https://maillage.example/o/authorize/"


def test_the_capability_statement_names_the_oauth_endpoints(db):
    response: Any = Client().get(f"{BASE}/metadata")
    statement = fhir_json(response)

    security = statement["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    [uris] = [e for e in security["extension"] if e["url"] == OAUTH_URIS]
    by_name = {e["url"]: e["valueUri"] for e in uris["extension"]}
    assert by_name["authorize"] == f"{SITE}/o/authorize/"
    assert by_name["token"] == f"{SITE}/o/token/"
    assert by_name["revoke"] == f"{SITE}/o/revoke_token/"


def test_no_dynamic_registration_nor_management_pages_are_mounted(db):
    for path in ("/o/register/", "/o/applications/", "/o/applications/register/"):
        assert Client().get(path).status_code == 404, path
