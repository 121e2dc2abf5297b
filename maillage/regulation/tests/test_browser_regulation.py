"""A regulator opens a case in a real browser; the patient sees it in her access log."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from maillage.audit.models import Action, AuditEntry
from maillage.regulation.models import RegulationCase
from maillage.regulation.tests.conftest import REASON, file_report
from maillage.testing import factories as f
from maillage.testing.browser import (
    PHONE,
    assert_fits,
    check_accessibility,
    confirmed_device,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.browser


def new_page(page: Page, live_url: str) -> Page:
    browser: Browser | None = page.context.browser
    assert browser is not None
    return browser.new_context(base_url=live_url, locale="fr-FR").new_page()


def test_a_regulator_opens_reads_and_closes_a_case(page: Page, personas, live_url: str) -> None:
    file_report(personas, "Compte rendu du 2 novembre")
    sign_in(page, "regulateur", f.PASSWORD, totp_key=confirmed_device(personas.regulator))
    response = page.goto(f"/patients/{personas.patient.uuid}/")
    assert response is not None and response.status == 404

    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name="Régulation").click()
    expect(page.get_by_role("heading", name="Mes dossiers de régulation")).to_be_visible()
    expect(page.get_by_text("Aucun dossier ouvert.")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name="Ouvrir un dossier de régulation").click()
    expect(page.get_by_role("heading", name="Ouvrir un dossier de régulation")).to_be_visible()
    check_accessibility(page)

    page.get_by_label("Nom de naissance", exact=True).fill("Girard")
    page.get_by_label("Premier prénom de naissance").fill("Micheline")
    page.get_by_label("Date de naissance").fill("1948-03-14")
    page.get_by_label("Motif de la demande").fill("appel du 15")
    page.get_by_role("button", name="Ouvrir le dossier").click()
    expect(page.get_by_text("au moins 15 caractères", exact=False)).to_be_visible()
    check_accessibility(page)
    assert not RegulationCase.objects.exists()

    page.get_by_label("Motif de la demande").fill(REASON)
    page.get_by_label("Pour combien d'heures").fill("2")
    page.get_by_role("button", name="Ouvrir le dossier").click()
    expect(page.get_by_text("Dossier de régulation ouvert jusqu'au", exact=False)).to_be_visible()
    expect(page.get_by_role("heading", name="GIRARD", exact=False)).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name="Dossier partagé").click()
    expect(page.get_by_role("link", name="Compte rendu du 2 novembre")).to_be_visible()

    page.get_by_role("navigation").get_by_role("link", name="Régulation").click()
    expect(page.get_by_text(REASON)).to_be_visible()
    check_accessibility(page)
    assert_fits(page, PHONE)
    screenshot(page, "regulation-cases-phone")
    page.get_by_role("button", name="Clôturer le dossier de GIRARD", exact=False).click()
    expect(page.get_by_text("Dossier clos", exact=False)).to_be_visible()
    expect(page.get_by_text("Aucun dossier ouvert.")).to_be_visible()
    response = page.goto(f"/dossier/{personas.patient.uuid}/")
    assert response is not None and response.status == 404

    mine = new_page(page, live_url)
    sign_in(mine, "patient", f.PASSWORD)
    mine.goto("/patients/mon-dossier/acces/")
    flagged = mine.locator("tr.break-glass")
    expect(flagged.filter(has_text="a ouvert un dossier de régulation")).to_have_count(1)
    expect(flagged.filter(has_text="a ouvert le dossier partagé").first).to_contain_text(REASON)
    check_accessibility(mine)
    assert_fits(mine, PHONE)
    case = RegulationCase.objects.get()
    assert case.closed_at is not None and case.reason == REASON
    assert AuditEntry.objects.filter(
        action=Action.RECORD_READ, basis="regulation_case", reason=REASON
    ).exists()
