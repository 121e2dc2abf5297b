"""The token endpoint: refresh only with offline_access, id_token with fhirUser, revocation."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.test import Client
from jwcrypto import jwk, jwt

from maillage.fhir.tests.conftest import BASE
from maillage.smart.tests.conftest import launch


def _refresh(app: Any, refresh_token: str) -> Any:
    return Client().post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": app.client_id},
    )


def test_no_refresh_token_without_offline_access(client, personas, app):
    token = launch(client, personas.patient_user, app).token("patient/*.rs")

    assert "refresh_token" not in token
    # Nor can one be made up: the grant is refused.
    response = _refresh(app, "made-up-refresh-token")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_offline_access_gives_a_refresh_token_that_works_once(client, personas, app):
    token = launch(client, personas.patient_user, app).token("patient/*.rs offline_access")
    assert token["refresh_token"]

    renewed = _refresh(app, token["refresh_token"])
    assert renewed.status_code == 200, renewed.content
    fresh = renewed.json()
    assert fresh["scope"] == "patient/*.rs offline_access"
    assert fresh["patient"] == str(personas.patient.uuid)
    read = Client().get(
        f"{BASE}/Patient/{personas.patient.uuid}",
        HTTP_AUTHORIZATION=f"Bearer {fresh['access_token']}",
    )
    assert read.status_code == 200
    # Rotated: the first refresh token is spent.
    assert _refresh(app, token["refresh_token"]).status_code == 400


def test_a_refresh_cannot_widen_the_scopes(client, personas, app):
    token = launch(client, personas.patient_user, app).token("patient/Patient.rs offline_access")

    response = Client().post(
        "/o/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": app.client_id,
            "scope": "patient/*.rs offline_access",
        },
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def _claims(id_token: str) -> dict[str, object]:
    key = jwk.JWK.from_pem(str(settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]).encode())
    public = jwk.JWK()
    public.import_key(**json.loads(key.export_public()))
    checked = jwt.JWT(jwt=id_token, key=public, algs=["RS256"])
    return dict(json.loads(checked.claims))


def test_openid_fhiruser_gives_an_id_token_naming_the_patient(client, personas, app):
    token = launch(client, personas.patient_user, app).token("openid fhirUser patient/*.rs")

    claims = _claims(str(token["id_token"]))

    assert claims["fhirUser"] == f"Patient/{personas.patient.uuid}"
    assert claims["sub"] == str(personas.patient_user.uuid)
    assert claims["aud"] == app.client_id
    assert str(claims["iss"]).endswith("/o")


def test_openid_fhiruser_names_the_practitioner(client, personas, app):
    token = launch(client, personas.treating_doctor.user, app).token("openid fhirUser user/*.rs")

    claims = _claims(str(token["id_token"]))

    assert claims["fhirUser"] == f"Practitioner/{personas.treating_doctor.uuid}"


def test_jwks_publishes_the_signing_key(db):
    keys = Client().get("/o/.well-known/jwks.json").json()["keys"]

    assert [k["alg"] for k in keys] == ["RS256"]
    assert "d" not in keys[0]


def test_a_revoked_token_opens_nothing(client, personas, app):
    token = launch(client, personas.patient_user, app).token("patient/*.rs offline_access")

    revoked = Client().post(
        "/o/revoke_token/", {"token": token["access_token"], "client_id": app.client_id}
    )

    assert revoked.status_code == 200
    response = Client().get(
        f"{BASE}/Patient/{personas.patient.uuid}",
        HTTP_AUTHORIZATION=f"Bearer {token['access_token']}",
    )
    assert response.status_code == 401
    # Revoking the access token revokes its refresh token too.
    assert _refresh(app, token["refresh_token"]).status_code == 400
    from maillage.audit.models import Action, AuditEntry

    entry = AuditEntry.objects.get(action=Action.APP_REVOKED)
    assert entry.actor == personas.patient_user
    assert entry.detail == {"client_id": app.client_id, "by": "app", "kind": "access_token"}


def test_revoking_an_unknown_token_answers_200_and_audits_nothing(db, app):
    from maillage.audit.models import Action, AuditEntry

    response = Client().post("/o/revoke_token/", {"token": "inconnu", "client_id": app.client_id})

    assert response.status_code == 200
    assert not AuditEntry.objects.filter(action=Action.APP_REVOKED).exists()


def test_an_app_cannot_revoke_the_token_of_another_app(client, personas, app):
    from maillage.smart.testing import public_app

    token = launch(client, personas.patient_user, app).token("patient/*.rs")
    other = public_app("Autre appli")

    Client().post(
        "/o/revoke_token/", {"token": token["access_token"], "client_id": other.client_id}
    )

    response = Client().get(
        f"{BASE}/Patient/{personas.patient.uuid}",
        HTTP_AUTHORIZATION=f"Bearer {token['access_token']}",
    )
    assert response.status_code == 200


def test_each_issued_token_is_audited_on_its_account(client, personas, app):
    from maillage.audit.models import Action, AuditEntry

    launch(client, personas.patient_user, app).token("patient/*.rs")

    entry = AuditEntry.objects.get(action=Action.TOKEN_CREATED)
    assert entry.actor == personas.patient_user
    assert entry.detail["client_id"] == app.client_id
    assert entry.detail["scope"] == "patient/*.rs"
