"""A system client (client credentials): reads as its bound account, never writes."""

from __future__ import annotations

import base64
from typing import Any

from django.test import Client
from oauth2_provider.models import Application

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import BASE
from maillage.smart.testing import SystemApp, system_app


def basic(app: SystemApp, secret: str | None = None) -> dict[str, Any]:
    pair = f"{app.application.client_id}:{secret if secret is not None else app.secret}"
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(pair.encode()).decode()}


def client_token(app: SystemApp, scope: str = "system/*.rs", **auth: Any) -> Any:
    return Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": scope},
        **(auth or basic(app)),
    )


def bearer(token: Any) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token.json()['access_token']}"}


def test_it_reads_as_its_bound_account(personas):
    app = system_app(personas.coordinator)

    token = client_token(app)
    read = Client().get(f"{BASE}/Patient/{personas.patient.uuid}", **bearer(token))

    assert token.status_code == 200, token.content
    assert token.json()["scope"] == "system/*.rs"
    assert "refresh_token" not in token.json()
    assert "patient" not in token.json()
    assert read.status_code == 200
    entry = AuditEntry.objects.get(patient=personas.patient, action=Action.PATIENT_READ)
    assert entry.actor == personas.coordinator
    assert entry.outcome == Outcome.GRANTED


def test_it_never_reads_more_than_its_account(personas):
    app = system_app(personas.stranger_coordinator)

    read = Client().get(f"{BASE}/Patient/{personas.patient.uuid}", **bearer(client_token(app)))

    assert read.status_code == 404


def test_it_cannot_write_with_read_scopes(personas):
    app = system_app(personas.coordinator)

    response = Client().post(
        f"{BASE}/Patient",
        "{}",
        content_type="application/fhir+json",
        **bearer(client_token(app)),
    )

    assert response.status_code == 403
    assert AuditEntry.objects.get(action=Action.SCOPE_REFUSED).actor == personas.coordinator
    assert not AuditEntry.objects.filter(action=Action.PATIENT_CREATE).exists()


def test_it_gets_only_system_scopes(personas):
    app = system_app(personas.coordinator)

    for scope in ("user/*.rs", "patient/*.rs", "system/*.rs openid", "system/*.rs offline_access"):
        response = client_token(app, scope)
        assert response.status_code == 400, scope
        assert response.json()["error"] == "invalid_scope", scope


def test_a_wrong_secret_gets_no_token(personas):
    app = system_app(personas.coordinator)

    response = client_token(app, **basic(app, "not-the-secret"))

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_client_bound_to_no_account_gets_no_token(personas):
    app = system_app(personas.coordinator)
    app.application.system_client.delete()

    assert client_token(app).status_code == 400


def test_a_public_app_cannot_use_client_credentials(personas):
    public = Application.objects.create(
        name="Appli publique",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://app.example/callback",
    )

    response = Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "system/*.rs", "client_id": public.client_id},
    )

    assert response.status_code in {400, 401}
    assert "access_token" not in response.json()


def test_it_starts_a_bulk_export_with_a_scope_on_every_type(personas, settings, tmp_path):
    settings.MAILLAGE_EXPORTS_DIR = str(tmp_path / "exports")
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "file-keys.json")
    settings.MAILLAGE_FILE_KEYS = ""
    app = system_app(personas.coordinator)
    headers: dict[str, Any] = {
        "HTTP_ACCEPT": "application/fhir+json",
        "HTTP_PREFER": "respond-async",
    }

    narrow = Client().get(
        f"{BASE}/$export", **headers, **bearer(client_token(app, "system/Patient.rs"))
    )
    wide = Client().get(f"{BASE}/$export", **headers, **bearer(client_token(app)))

    assert narrow.status_code == 403
    assert wide.status_code == 202, wide.content
    status = str(wide["Content-Location"]).split("/fhir/r4/", 1)[1]
    polled = Client().get(f"{BASE}/{status}", **bearer(client_token(app)))
    assert polled.status_code in {200, 202}


def test_a_system_token_is_audited_on_its_bound_account(personas):
    app = system_app(personas.coordinator)

    client_token(app)

    entry = AuditEntry.objects.get(action=Action.TOKEN_CREATED)
    assert entry.actor == personas.coordinator
    assert entry.detail["scope"] == "system/*.rs"
