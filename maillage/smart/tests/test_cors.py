"""CORS on the FHIR API: only the origins a registered app lists, never with credentials."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Page

from maillage.accounts.actions import create_api_token
from maillage.fhir.tests.conftest import BASE
from maillage.smart.testing import public_app

APP_ORIGIN = "https://carnet.example"


@pytest.fixture
def app_with_origin(db):
    app = public_app()
    app.allowed_origins = f"{APP_ORIGIN} https://autre.example"
    app.save()
    return app


def _preflight(origin: str) -> Any:
    return Client().options(
        f"{BASE}/Patient",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )


def test_a_registered_origin_passes_the_preflight(app_with_origin):
    response = _preflight(APP_ORIGIN)

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "Authorization" in response["Access-Control-Allow-Headers"]
    assert "PUT" in response["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response
    assert "Origin" in response["Vary"]


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "https://carnet.example.evil.example",  # a prefix of a listed origin is not it
        "https://carnet",
        "null",
        "x" * 5000,
    ],
)
def test_any_other_origin_gets_no_cors_header(app_with_origin, origin):
    response = _preflight(origin)

    assert response.status_code == 204
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Methods" not in response


def test_an_answer_names_the_origin_and_exposes_the_fhir_headers(personas, app_with_origin):
    token = create_api_token(personas.treating_doctor.user)

    response = Client().get(
        f"{BASE}/Patient/{personas.patient.uuid}",
        HTTP_ORIGIN=APP_ORIGIN,
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "ETag" in response["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in response


def test_pages_and_clients_without_origin_are_left_alone(personas, app_with_origin):
    assert "Access-Control-Allow-Origin" not in Client().get(f"{BASE}/metadata")
    assert "Access-Control-Allow-Origin" not in Client().get("/", HTTP_ORIGIN=APP_ORIGIN)


def test_the_capability_statement_says_so(db):
    statement = json.loads(Client().get(f"{BASE}/metadata").content)
    assert statement["rest"][0]["security"]["cors"] is True


@pytest.mark.browser
def test_a_browser_app_reads_from_its_registered_origin_and_only_from_it(
    page: Page, live_url: str, personas
) -> None:
    # Two origins of the same machine: the app's page on localhost, the API on 127.0.0.1.
    port = live_url.rsplit(":", 1)[1]
    app_origin = f"http://localhost:{port}"
    app = public_app()
    app.allowed_origins = app_origin
    app.save()
    token = create_api_token(personas.treating_doctor.user)
    # The app's page must come from the loopback too (Chromium keeps public pages
    # off it): a page of ours stands for it, its CSP set aside as the app's own
    # page would not have ours.
    browser = page.context.browser
    assert browser is not None
    app_page = browser.new_context(bypass_csp=True).new_page()
    fetch = """async ([url, token]) => {
        try {
            const r = await fetch(url, {headers: {Authorization: "Bearer " + token,
                                                  Accept: "application/fhir+json"}});
            return {status: r.status, etag: r.headers.get("ETag"), body: await r.json()};
        } catch (e) { return {error: String(e)}; }
    }"""
    target = f"{live_url}/fhir/r4/Patient/{personas.patient.uuid}"

    app_page.goto(f"{app_origin}/comptes/connexion/")
    read = app_page.evaluate(fetch, [target, token])

    assert read.get("status") == 200, read
    assert read["body"]["id"] == str(personas.patient.uuid)
    assert read["etag"].startswith('W/"')

    # Once the administrator no longer lists the origin, the browser keeps the
    # answer from the page (the server still answers: a bearer token, no cookie).
    app.allowed_origins = "https://carnet.example"
    app.save()
    refused = app_page.evaluate(fetch, [target, token])
    assert "error" in refused and "Failed to fetch" in refused["error"]
    app_page.context.close()
