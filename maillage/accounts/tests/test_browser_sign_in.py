"""A professional enrols a second factor, signs out, and signs in again with it."""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import Page, expect

from maillage.audit.models import Action, AuditEntry
from maillage.testing.browser import (
    PHONE,
    assert_fits,
    assert_light,
    check_accessibility,
    current_totp,
    measure_transfer,
    screenshot,
    sign_in,
)
from maillage.testing.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_it_enrols_totp_then_requires_it(page: Page, personas) -> None:
    with measure_transfer(page) as transfer:
        page.goto("/comptes/connexion/")
    assert_light(transfer)
    check_accessibility(page)

    page.get_by_label("Nom d'utilisateur").fill("medecin.traitant")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    # First sign-in: enrolment, with a QR code and the key typed by hand.
    expect(page.get_by_role("heading", name="Activez votre second facteur")).to_be_visible()
    expect(page.get_by_role("img", name="QR code pour ajouter Maillage")).to_be_visible()
    check_accessibility(page)
    assert_fits(page, PHONE)
    screenshot(page, "sign-in-enrol-phone")
    secret = page.locator(".secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))

    page.get_by_label("Code à 6 chiffres").fill(
        "000000" if current_totp(key) != "000000" else "111111"
    )
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_text("Ce code est erroné ou a expiré")).to_be_visible()
    check_accessibility(page)

    # django-otp throttles after a failure; a person would wait a moment too.
    page.wait_for_timeout(1100)
    page.get_by_label("Code à 6 chiffres").fill(current_totp(key))
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_role("heading", name="Bonjour, Claire Morel")).to_be_visible()
    check_accessibility(page)

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Connexion à Maillage")).to_be_visible()

    # Second sign-in: the code is asked, and nothing is reachable before it.
    page.get_by_label("Nom d'utilisateur").fill("medecin.traitant")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Saisissez votre code à usage unique")).to_be_visible()
    page.goto("/annuaire/")
    expect(page.get_by_role("heading", name="Saisissez votre code à usage unique")).to_be_visible()

    page.get_by_label("Code à 6 chiffres").fill(current_totp(key, drift=1))
    page.get_by_role("button", name="Valider").click()
    # Where she was going survives the second factor.
    expect(page.get_by_role("heading", name="Annuaire du territoire")).to_be_visible()

    user = personas.treating_doctor.user
    actions = list(AuditEntry.objects.filter(actor=user).values_list("action", flat=True))
    assert actions.count(Action.LOGIN) == 2
    assert Action.OTP_ENROLLED in actions
    assert Action.OTP_FAILED in actions


def test_it_shows_a_french_error_for_a_wrong_password(page: Page, personas) -> None:
    page.goto("/comptes/connexion/")
    page.get_by_label("Nom d'utilisateur").fill("medecin.traitant")
    page.get_by_label("Mot de passe").fill("not the password")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_contain_text("Nom d'utilisateur ou mot de passe incorrect")
    check_accessibility(page)
    assert AuditEntry.objects.filter(
        action=Action.LOGIN_FAILED, detail__username="medecin.traitant"
    ).exists()


def test_it_lets_a_patient_in_without_second_factor(page: Page, personas) -> None:
    sign_in(page, "patient", PASSWORD)
    expect(page.get_by_role("link", name="Mon dossier").first).to_be_visible()
