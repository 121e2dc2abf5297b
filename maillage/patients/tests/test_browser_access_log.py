"""The patient sees who opened her record: her médecin traitant, and a refused stranger."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from maillage.testing import factories as f
from maillage.testing.browser import (
    PHONE,
    assert_fits,
    assert_light,
    check_accessibility,
    confirmed_device,
    measure_transfer,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.browser


def test_it_shows_the_patient_every_access_to_her_record(
    page: Page, personas, live_url: str
) -> None:
    # Her médecin traitant finds her and opens her record.
    key = confirmed_device(personas.treating_doctor.user)
    sign_in(page, "medecin.traitant", f.PASSWORD, totp_key=key)
    page.get_by_role("link", name="Patients").first.click()
    page.get_by_label("Nom").fill("girard")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name="1 patient")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name="GIRARD Micheline").click()
    expect(page.get_by_role("heading", name="GIRARD Micheline")).to_be_visible()
    expect(
        page.get_by_text("Votre accès à ce dossier est enregistré et visible par le patient.")
    ).to_be_visible()
    check_accessibility(page)

    browser = page.context.browser
    assert browser is not None
    # A cardiologist with no link tries the same address and gets "not found".
    stranger = browser.new_context(base_url=live_url, locale="fr-FR")
    other = stranger.new_page()
    sign_in(other, "cardiologue", f.PASSWORD, totp_key=confirmed_device(personas.cardiologist.user))
    response = other.goto(page.url)
    assert response is not None and response.status == 404
    expect(other.get_by_role("heading", name="Introuvable")).to_be_visible()
    check_accessibility(other)
    stranger.close()

    # The patient reads her access log.
    patient_context = browser.new_context(base_url=live_url, locale="fr-FR")
    mine = patient_context.new_page()
    sign_in(mine, "patient", f.PASSWORD)
    mine.get_by_role("link", name="Mon dossier").first.click()
    expect(mine.get_by_text("Dr Claire Morel")).to_be_visible()  # her médecin traitant
    with measure_transfer(mine) as transfer:
        mine.get_by_role("link", name="Voir tous les accès à mes données").click()
        expect(mine.get_by_role("heading", name="Accès à mon dossier")).to_be_visible()
    assert_light(transfer)

    read_by_doctor = mine.locator("tr", has_text="Claire Morel").filter(
        has_text="a ouvert la fiche d'identité"
    )
    expect(read_by_doctor).to_have_count(1)
    expect(read_by_doctor).to_contain_text("médecin traitant")
    expect(read_by_doctor).to_contain_text("effectué")
    listed = mine.locator("tr", has_text="Claire Morel").filter(
        has_text="a vu le patient dans des résultats de recherche"
    )
    # Listed twice: on the patient list as it opened, then in the search results.
    expect(listed).to_have_count(2)
    refused = mine.locator("tr.denied", has_text="Hugo Lefèvre")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("refusé")
    check_accessibility(mine)
    screenshot(mine, "access-log-desktop")
    assert_fits(mine, PHONE)
    screenshot(mine, "access-log-phone")
    patient_context.close()
