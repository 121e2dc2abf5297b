"""A stolen or forgotten session, a shared computer's cache, a fixed session key."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from maillage.accounts.signals import LAST_SEEN, SIGNED_IN_AT
from maillage.fhir.tests.conftest import BASE
from maillage.front.tests.test_home import signed_in
from maillage.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_patient_page_is_never_stored(personas) -> None:
    client = signed_in(personas.treating_doctor.user)
    response = client.get(f"/patients/{personas.patient.uuid}/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"


def test_a_fhir_read_is_never_stored(personas, client) -> None:
    from maillage.accounts.actions import create_api_token

    token = create_api_token(personas.treating_doctor.user)
    response = client.get(
        f"{BASE}/Patient/{personas.patient.uuid}", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"
    refused = client.get(f"{BASE}/Patient/{personas.patient.uuid}")
    assert refused.status_code == 401
    assert refused["Cache-Control"] == "no-store, private"


def test_static_files_stay_cacheable(client) -> None:
    response = client.get("/static/maillage/css/maillage.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def _age(client: Client, key: str, seconds: int) -> None:
    session = client.session
    session[key] = int(time.time()) - seconds
    session.save()


def test_an_idle_session_ends(personas, settings) -> None:
    settings.MAILLAGE_IDLE_TIMEOUT_MINUTES = 30
    client = signed_in(personas.treating_doctor.user)
    _age(client, LAST_SEEN, 29 * 60)
    assert client.get("/annuaire/").status_code == 200

    _age(client, LAST_SEEN, 31 * 60)
    response = client.get(f"/patients/{personas.patient.uuid}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/comptes/connexion/?session=expiree")
    # The session is gone, not just redirected once.
    assert "_auth_user_id" not in client.session
    assert client.get("/annuaire/").status_code == 302
    page = client.get(response["Location"])
    assert "Votre session a pris fin" in page.content.decode()


def test_a_busy_session_still_ends_after_the_absolute_limit(personas, settings) -> None:
    client = signed_in(personas.treating_doctor.user)
    _age(client, SIGNED_IN_AT, settings.SESSION_COOKIE_AGE + 60)
    response = client.get("/annuaire/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_session_key_changes_with_the_second_factor(personas) -> None:
    user = personas.treating_doctor.user
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client = Client()
    client.post("/comptes/connexion/", {"username": user.username, "password": PASSWORD})
    before = client.cookies["sessionid"].value

    response = client.post("/comptes/second-facteur/", {"code": f"{totp(device.bin_key):06d}"})

    assert response.status_code == 302
    after = client.cookies["sessionid"].value
    assert after != before
    # A copy of the first key (planted or seen) opens nothing.
    fixated = Client()
    fixated.cookies["sessionid"] = before
    assert fixated.get("/annuaire/").status_code == 302
    assert client.get("/annuaire/").status_code == 200


def test_hsts_covers_subdomains_with_https(settings) -> None:
    import importlib
    import os

    import maillage.settings as project_settings

    os.environ["MAILLAGE_HTTPS"] = "1"
    try:
        reloaded = importlib.reload(project_settings)
        assert reloaded.SECURE_HSTS_SECONDS >= 31536000
        assert reloaded.SECURE_HSTS_INCLUDE_SUBDOMAINS is True
    finally:
        del os.environ["MAILLAGE_HTTPS"]
        importlib.reload(project_settings)
