"""The authorization endpoint: sign-in with both factors, consent, PKCE S256, redirect URIs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.test import Client
from oauth2_provider.models import Grant

from maillage.audit.models import Action, AuditEntry
from maillage.smart.testing import CALLBACK
from maillage.smart.tests.conftest import Launch, launch


def test_it_sends_an_anonymous_visitor_to_the_sign_in_page_and_back(client, personas, app):
    url = Launch(client, app).authorize_url("patient/*.rs")

    response = client.get(url)

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == "/comptes/connexion/"
    assert parse_qs(target.query)["next"] == [url]


def test_it_keeps_the_request_through_the_professional_second_factor(client, personas, app):
    client.force_login(personas.treating_doctor.user)
    url = Launch(client, app).authorize_url("user/*.rs")

    response = client.get(url)

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == "/comptes/second-facteur/"
    assert parse_qs(target.query)["next"] == [url]
    assert not Grant.objects.exists()


def test_it_shows_the_consent_page_in_french(client, personas, app):
    flow = launch(client, personas.patient_user, app)

    page = flow.consent("openid fhirUser launch/patient patient/Patient.rs")

    assert page.status_code == 200
    text = page.content.decode()
    assert "Autoriser l'application « Carnet de santé » ?" in text
    assert "Lire, rechercher : les identités (Patient) de votre dossier seulement." in text
    assert "vous serez ensuite renvoyé vers https://app.example." in text
    assert "form-action 'self' https://app.example" in page["Content-Security-Policy"]


def test_a_scope_named_twice_is_shown_and_asked_once(client, personas, app):
    flow = launch(client, personas.patient_user, app)

    page = flow.consent("launch/patient openid launch/patient patient/Patient.rs")

    text = page.content.decode()
    assert text.count("Savoir quel dossier patient est ouvert") == 1
    assert 'value="launch/patient openid patient/Patient.rs"' in text


def test_it_redirects_with_a_code_once_the_patient_allows(client, personas, app):
    flow = launch(client, personas.patient_user, app)

    received = flow.allow("launch/patient patient/*.rs")

    assert received["state"] == [flow.state]
    assert received["code"]
    entry = AuditEntry.objects.get(action=Action.APP_AUTHORIZED)
    assert entry.actor == personas.patient_user
    assert entry.detail["client_id"] == app.client_id


def test_it_redirects_with_access_denied_when_the_patient_refuses(client, personas, app):
    flow = launch(client, personas.patient_user, app)

    received = flow.allow("patient/*.rs", allow=False)

    assert received["error"] == ["access_denied"]
    assert "code" not in received
    assert not AuditEntry.objects.filter(action=Action.APP_AUTHORIZED).exists()


def test_it_refuses_a_request_without_pkce(client, personas, app):
    flow = launch(client, personas.patient_user, app)

    response = client.get(
        flow.authorize_url("patient/*.rs", code_challenge="", code_challenge_method="")
    )

    assert response.status_code == 302
    received = parse_qs(urlsplit(response["Location"]).query)
    assert received["error"] == ["invalid_request"]
    assert "code" not in received


def test_it_refuses_a_plain_code_challenge(client, personas, app):
    flow = launch(client, personas.patient_user, app)

    response = client.get(
        flow.authorize_url(
            "patient/*.rs", code_challenge=flow.pkce.verifier, code_challenge_method="plain"
        )
    )

    assert response.status_code == 302
    received = parse_qs(urlsplit(response["Location"]).query)
    assert received["error"] == ["invalid_request"]


def test_it_refuses_a_plain_challenge_slipped_into_the_consent_form(client, personas, app):
    flow = launch(client, personas.patient_user, app)
    page = flow.consent("patient/*.rs")
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data.update(allow="on", code_challenge=flow.pkce.verifier, code_challenge_method="plain")

    response = client.post("/o/authorize/", data)

    received = parse_qs(urlsplit(response["Location"]).query)
    assert "code" not in received
    assert not Grant.objects.exists()


def test_it_shows_an_error_page_and_never_redirects_to_an_unregistered_uri(client, personas, app):
    flow = launch(client, personas.patient_user, app)

    response = client.get(
        flow.authorize_url("patient/*.rs", redirect_uri="https://evil.example/callback")
    )

    assert response.status_code == 400
    assert "Location" not in response
    assert "Autorisation refusée" in response.content.decode()
    assert "evil.example" not in response.content.decode()


def test_it_shows_an_error_page_for_an_unknown_app(client, personas, app):
    flow = launch(client, personas.patient_user, app)

    response = client.get(flow.authorize_url("patient/*.rs", client_id="inconnu"))

    assert response.status_code in {400, 401}
    assert "Location" not in response


def test_it_refuses_patient_scopes_to_a_professional(client, personas, app):
    flow = launch(client, personas.treating_doctor.user, app)

    response = client.get(flow.authorize_url("patient/*.rs"))

    assert response.status_code == 302
    assert response["Location"].startswith(CALLBACK)
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["invalid_scope"]


def test_it_refuses_system_and_unknown_scopes_to_a_user_facing_app(client, personas, app):
    flow = launch(client, personas.patient_user, app)

    for scope in ("system/*.rs", "patient/*.xyz", "patient/Patient.rs?gender=female", "admin"):
        response = client.get(flow.authorize_url(scope))
        assert response.status_code == 302, scope
        error = parse_qs(urlsplit(response["Location"]).query)["error"]
        assert error == ["invalid_scope"], scope


def test_it_does_not_accept_a_code_for_another_verifier(client, personas, app):
    flow = launch(client, personas.patient_user, app)
    received = flow.allow("patient/*.rs")

    response = flow.exchange(received["code"][0], verifier="x" * 50)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_code_is_used_once(client, personas, app):
    flow = launch(client, personas.patient_user, app)
    code = flow.allow("patient/*.rs")["code"][0]
    assert flow.exchange(code).status_code == 200

    assert flow.exchange(code).status_code == 400


def test_it_gives_a_professional_the_scopes_of_her_user(client, personas, app):
    flow = launch(Client(), personas.treating_doctor.user, app)

    token = flow.token("user/*.rs")

    assert token["scope"] == "user/*.rs"
    assert "patient" not in token
    assert "refresh_token" not in token


def test_it_refuses_a_request_for_another_server(client, personas, app):
    flow = launch(client, personas.patient_user, app)

    response = client.get(flow.authorize_url("patient/*.rs", aud="https://other.example/fhir"))

    assert response.status_code == 302
    received = parse_qs(urlsplit(response["Location"]).query)
    assert received["error"] == ["invalid_request"]
    assert "code" not in received
