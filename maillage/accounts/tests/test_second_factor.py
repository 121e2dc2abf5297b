from __future__ import annotations

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from maillage.accounts.actions import create_api_token
from maillage.audit.models import Action, AuditEntry
from maillage.testing.factories import page_text


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["treating_doctor", "coordinator", "analyst", "admin", "regulator"])
def test_it_keeps_professionals_out_until_their_code_is_checked(personas, who) -> None:
    client = _client_for(personas.user(who))
    paths = ["/", "/annuaire/", f"/patients/{personas.patient.uuid}/", "/indicateurs/"]
    # The account area too, but for the way to the code: a stolen password
    # alone does not show (or revoke) the API tokens.
    paths += ["/comptes/jetons/", "/applications/"]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/comptes/second-facteur/")


@pytest.mark.django_db
def test_a_password_alone_cannot_revoke_an_api_token(personas) -> None:
    doctor = personas.treating_doctor.user
    create_api_token(doctor, "script du cabinet")
    token = doctor.api_tokens.get()

    response = _client_for(doctor).post(f"/comptes/jetons/{token.uuid}/revoquer/")

    assert response.status_code == 302
    assert response["Location"].startswith("/comptes/second-facteur/")
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.django_db
def test_it_lets_patients_in_with_a_password(personas) -> None:
    assert _client_for(personas.patient_user).get("/").status_code == 200


@pytest.mark.django_db
def test_it_verifies_an_enrolled_device(personas) -> None:
    user = personas.treating_doctor.user
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client = _client_for(user)
    page = client.get("/comptes/second-facteur/")
    assert "Saisissez votre code à usage unique" in page_text(page)
    response = client.post("/comptes/second-facteur/", {"code": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/annuaire/").status_code == 200


@pytest.mark.django_db
def test_it_refuses_a_wrong_code_and_throttles(personas) -> None:
    user = personas.treating_doctor.user
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client = _client_for(user)
    wrong = f"{(totp(device.bin_key) + 1) % 1_000_000:06d}"
    first = client.post("/comptes/second-facteur/", {"code": wrong})
    assert first.status_code == 200
    assert "Ce code est erroné ou a expiré" in page_text(first)
    second = client.post("/comptes/second-facteur/", {"code": f"{totp(device.bin_key):06d}"})
    assert "Trop de codes erronés" in page_text(second)
    assert client.get("/annuaire/").status_code == 302
    assert AuditEntry.objects.filter(actor=user, action=Action.OTP_FAILED).count() == 1


@pytest.mark.django_db
def test_it_rejects_a_code_that_is_not_six_digits(personas) -> None:
    client = _client_for(personas.coordinator)
    response = client.post("/comptes/second-facteur/", {"code": "12ab"})
    assert "Le code comporte 6 chiffres." in page_text(response)


@pytest.mark.django_db
def test_it_does_not_follow_a_next_url_off_site(personas) -> None:
    user = personas.treating_doctor.user
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client = _client_for(user)
    response = client.post(
        "/comptes/second-facteur/?next=https://evil.example/",
        {"code": f"{totp(device.bin_key):06d}", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_demo_accounts_skip_the_code_only_in_demo_mode(personas, settings) -> None:
    user = personas.treating_doctor.user
    user.is_demo = True
    user.save(update_fields=["is_demo"])
    settings.DEMO_MODE = False
    assert _client_for(user).get("/").status_code == 302
    settings.DEMO_MODE = True
    page = _client_for(user).get("/")
    assert page.status_code == 200
    assert "Ce compte de démonstration s'est connecté sans second facteur" in page_text(page)
    other = personas.coordinator  # not a demo account
    assert _client_for(other).get("/").status_code == 302
