"""The session, user, messages and language middleware serve the pages, not the API.

See maillage.front.pages_only.
"""

from __future__ import annotations

import pytest
from django.test import AsyncClient, Client

from maillage.accounts.actions import create_api_token
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.realtime.tests.conftest import run

pytestmark = pytest.mark.django_db

BASE = "/fhir/r4"


def _read(client: Client, personas, token: str):
    return client.get(
        f"{BASE}/Patient/{personas.patient.uuid}",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_ACCEPT="application/fhir+json",
    )


def test_an_api_call_with_a_session_of_someone_else_acts_only_as_the_token(client, personas):
    # A cardiologist's token (no link with her), her doctor's session cookie
    # beside it: the read is the token holder's, refused and audited as his.
    client.force_login(personas.treating_doctor.user)
    cardiologist = create_api_token(personas.cardiologist.user, "test")

    response = _read(client, personas, cardiologist)

    assert response.status_code == 404  # refused as if she were not there
    (entry,) = AuditEntry.objects.filter(action=Action.PATIENT_READ)
    assert entry.actor == personas.cardiologist.user
    assert entry.outcome == Outcome.DENIED
    assert entry.channel == "fhir"


def test_an_api_answer_sets_no_cookie_and_does_not_vary_on_one(client, personas):
    client.force_login(personas.treating_doctor.user)
    token = create_api_token(personas.treating_doctor.user, "test")

    response = _read(client, personas, token)

    assert response.status_code == 200
    assert not response.cookies
    assert "cookie" not in response.headers.get("Vary", "").lower()
    assert response.headers["Cache-Control"] == "no-store, private"


def test_a_page_still_has_its_session_and_user(client, personas):
    client.force_login(personas.treating_doctor.user)

    response = client.get("/")

    # Her session gave her user, whose second factor is still to check.
    assert response.status_code == 302
    assert response.url == "/comptes/second-facteur/"
    assert response.wsgi_request.user == personas.treating_doctor.user


@pytest.mark.django_db(transaction=True)  # the scenario runs in a thread of its own
def test_both_through_the_async_handler(personas):
    # Under ASGI the same middleware runs as coroutines: an API call passes
    # by them, a page goes through them.
    token = create_api_token(personas.treating_doctor.user, "test")

    async def both():
        client = AsyncClient()
        await client.aforce_login(personas.treating_doctor.user)
        read = await client.get(
            f"{BASE}/Patient/{personas.patient.uuid}",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"},
        )
        return read, await client.get("/")

    read, page = run(both)

    assert read.status_code == 200
    assert "cookie" not in read.headers.get("Vary", "").lower()
    assert page.status_code == 302
    assert page.url == "/comptes/second-facteur/"


def test_the_api_speaks_french_whatever_language_is_asked(client) -> None:
    # No language negotiation on the API: French, the only one offered,
    # even to a client asking for English, as the pages would answer it.
    response = client.get(
        f"{BASE}/Patient", HTTP_ACCEPT="application/fhir+json", HTTP_ACCEPT_LANGUAGE="en"
    )
    page = client.get("/comptes/connexion/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 401
    assert "jeton" in response.json()["issue"][0]["diagnostics"]
    assert page.headers["Content-Language"] == "fr"
    assert "Content-Language" not in response.headers
