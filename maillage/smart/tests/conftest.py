"""An app going through the authorization code grant with the Django test client."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import Application

from maillage.accounts.models import User
from maillage.fhir.tests.conftest import private_files  # noqa: F401 (a fixture)
from maillage.smart.testing import CALLBACK, Pkce, pkce, public_app


def signed_in(client: Client, user: User) -> Client:
    """Signed in with both factors (a professional's TOTP device is verified)."""
    client.force_login(user)
    if user.needs_second_factor:
        device = TOTPDevice.objects.create(user=user, name="Maillage", confirmed=True)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


@dataclass
class Launch:
    """One app's standalone launch, step by step."""

    client: Client
    application: Application
    pkce: Pkce = field(default_factory=pkce)
    state: str = "etat-123"

    def authorize_url(self, scope: str, **overrides: str) -> str:
        params = {
            "response_type": "code",
            "client_id": self.application.client_id,
            "redirect_uri": CALLBACK,
            "scope": scope,
            "state": self.state,
            "code_challenge": self.pkce.challenge,
            "code_challenge_method": "S256",
            "aud": "http://testserver/fhir/r4",
        }
        params.update(overrides)
        return "/o/authorize/?" + urlencode({k: v for k, v in params.items() if v != ""})

    def consent(self, scope: str) -> Any:
        return self.client.get(self.authorize_url(scope))

    def allow(self, scope: str, *, allow: bool = True) -> dict[str, list[str]]:
        """Consent and return the parameters the app receives on its redirect URI."""
        page = self.consent(scope)
        assert page.status_code == 200, page.content
        form = page.context["form"]
        data = {name: value for name, value in form.initial.items() if value is not None}
        if allow:
            data["allow"] = "on"
        response = self.client.post("/o/authorize/", data)
        assert response.status_code == 302, response.content
        location = response["Location"]
        assert location.startswith(CALLBACK)
        return parse_qs(urlsplit(location).query)

    def exchange(self, code: str, verifier: str | None = None) -> Any:
        return Client().post(
            "/o/token/",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "client_id": self.application.client_id,
                "code_verifier": verifier if verifier is not None else self.pkce.verifier,
            },
        )

    def token(self, scope: str) -> dict[str, Any]:
        received = self.allow(scope)
        response = self.exchange(received["code"][0])
        assert response.status_code == 200, response.content
        return dict(json.loads(response.content))


@pytest.fixture
def app(db: None) -> Application:
    return public_app()


def launch(client: Client, user: User, application: Application) -> Launch:
    return Launch(signed_in(client, user), application)
