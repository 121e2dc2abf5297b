"""A doctor finds a token she no longer uses on her tokens page and revokes it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from maillage.accounts.actions import create_api_token
from maillage.accounts.models import ApiToken
from maillage.audit.models import Action, AuditEntry
from maillage.testing.browser import (
    PHONE,
    assert_fits,
    check_accessibility,
    confirmed_device,
    sign_in,
)
from maillage.testing.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_it_lists_and_revokes_her_tokens(page: Page, personas) -> None:
    doctor = personas.treating_doctor.user
    create_api_token(doctor, "ancien logiciel")
    create_api_token(doctor, "logiciel du cabinet")
    create_api_token(personas.nurse.user, "tournée")
    key = confirmed_device(doctor)
    sign_in(page, "medecin.traitant", PASSWORD, totp_key=key)

    page.goto("/comptes/jetons/")
    expect(page.get_by_role("heading", name="Mes jetons d'API")).to_be_visible()
    table = page.get_by_role("table", name="Jetons qui ouvrent encore l'API")
    expect(table.get_by_role("row")).to_have_count(3)  # header + two tokens
    expect(page.get_by_text("tournée")).to_have_count(0)
    check_accessibility(page)

    old = ApiToken.objects.get(user=doctor, label="ancien logiciel")
    page.get_by_role("button", name=f"Révoquer le jeton {old.prefix}…").click()

    # The page has two live regions (the messages and the bell): the messages say it.
    expect(page.locator(".messages")).to_contain_text(f"Le jeton {old.prefix}… est révoqué.")
    expect(table.get_by_role("row")).to_have_count(2)
    check_accessibility(page)
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert ApiToken.objects.filter(user=doctor, revoked_at__isnull=True).count() == 1
    assert AuditEntry.objects.filter(action=Action.TOKEN_REVOKED, actor=doctor).count() == 1
    assert_fits(page, PHONE)
    check_accessibility(page)
