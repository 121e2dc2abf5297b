from __future__ import annotations

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from maillage.testing.factories import page_text


def signed_in(user) -> Client:
    """A client past both factors (the second one is tested in accounts)."""
    client = Client()
    client.force_login(user)
    if user.needs_second_factor:
        device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


# What each role is told it can do, and what it must not be offered.
CARDS = {
    "patient_user": (
        ["Mon identité et mon médecin", "Qui a consulté mon dossier"],
        ["Trouver un patient", "Indicateurs territoriaux"],
    ),
    "treating_doctor": (
        ["Trouver un patient", "Enregistrer un patient", "Annuaire du territoire"],
        ["Indicateurs territoriaux", "Administration"],
    ),
    "nurse": (["Trouver un patient", "Enregistrer un patient"], ["Indicateurs territoriaux"]),
    "coordinator": (["Trouver un patient", "Enregistrer un patient"], ["Administration"]),
    "regulator": (["Trouver un patient", "Enregistrer un patient"], ["Indicateurs territoriaux"]),
    "social_worker": (["Trouver un patient"], ["Enregistrer un patient"]),
    "analyst": (
        ["Indicateurs territoriaux", "Annuaire du territoire"],
        ["Trouver un patient", "Enregistrer un patient"],
    ),
    "admin": (
        ["Administration", "Indicateurs territoriaux"],
        ["Trouver un patient", "Enregistrer un patient"],
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("who", list(CARDS))
def test_each_role_is_told_what_it_can_do(personas, who) -> None:
    response = signed_in(personas.user(who)).get("/")
    assert response.status_code == 200
    text = page_text(response)
    offered, absent = CARDS[who]
    for card in offered:
        assert card in text
    for card in absent:
        assert card not in text


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in() -> None:
    response = Client().get("/")
    assert response.status_code == 302 and response["Location"].startswith("/comptes/connexion/")


@pytest.mark.django_db
def test_every_page_carries_a_strict_content_security_policy(personas) -> None:
    response = signed_in(personas.coordinator).get("/annuaire/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_a_missing_page_is_explained_in_french(personas) -> None:
    response = signed_in(personas.coordinator).get("/nulle-part/")
    assert response.status_code == 404
    assert "Cette page n'existe pas ou vous n'y avez pas accès." in page_text(response)
