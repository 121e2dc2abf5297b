"""Odd input at the OAuth endpoints gets an error page or an OAuth error, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from maillage.smart.tests.conftest import launch

ODD_AUTHORIZE = [
    {"response_type": "token"},
    {"response_type": "code id_token"},
    {"response_type": ""},
    {"scope": "patient/*.rs " * 500},
    {"scope": "patient/Ünïcödé.rs"},
    {"scope": "patient/*.rs\x00"},
    {"scope": ""},
    {"code_challenge_method": "S512"},
    {"code_challenge": "x" * 5000},
    {"redirect_uri": "javascript:alert(1)"},
    {"redirect_uri": "https://app.example/callback/../evil"},
    {"prompt": "none"},
    {"prompt": "login"},
    {"resource": "not a uri"},
    {"claims": "{not json"},
    {"aud": "x" * 3000},
]


@pytest.mark.parametrize("odd", ODD_AUTHORIZE)
def test_authorize_never_fails(client, personas, app, odd):
    flow = launch(client, personas.patient_user, app)

    wanted = {"scope": "patient/*.rs", **odd}
    response = client.get(flow.authorize_url(**wanted))

    assert response.status_code < 500, odd


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"grant_type": "password", "username": "patient", "password": "x"},
        {"grant_type": "authorization_code", "code": "x" * 3000},
        {"grant_type": "refresh_token", "refresh_token": ""},
        {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": "x"},
        {"grant_type": "client_credentials", "scope": "system/*.rs"},
        {"grant_type": "\x00"},
    ],
)
def test_token_never_fails(personas, app, data):
    response = Client().post("/o/token/", {"client_id": app.client_id, **data})

    assert 400 <= response.status_code < 500, data


def test_a_forged_consent_post_never_fails(client, personas, app):
    launch(client, personas.patient_user, app)

    response = client.post(
        "/o/authorize/", {"client_id": "inconnu", "redirect_uri": "x", "allow": "on"}
    )

    assert response.status_code < 500
