"""A doctor signs in with TOTP and finds the cardiologists within 50 km of Sancoins."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from maillage.directory.models import StructureKind
from maillage.directory.terminology import Specialty
from maillage.testing import factories as f
from maillage.testing.browser import (
    PHONE,
    TABLET,
    assert_fits,
    assert_light,
    check_accessibility,
    confirmed_device,
    measure_transfer,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def cardiologists(personas):
    """Around Sancoins: La Guerche 19 km, Dun 36 km, Saint-Amand 42 km; Bourges 62 km."""
    guerche = f.structure(
        "Cabinet de cardiologie de La Guerche", StructureKind.HEALTH_CENTRE, "18108"
    )
    dun = f.structure("Centre de santé de Dun-sur-Auron", StructureKind.HEALTH_CENTRE, "18087")
    saint_amand = f.structure(
        "Centre hospitalier de Saint-Amand-Montrond", StructureKind.HOSPITAL, "18197"
    )
    f.professional(
        None,
        last_name="Perrin",
        first_name="Anne",
        specialty=Specialty.CARDIOLOGY,
        structures=(saint_amand,),
    )
    f.professional(
        None,
        last_name="Garnier",
        first_name="Luc",
        specialty=Specialty.CARDIOVASCULAR,
        structures=(dun,),
    )
    f.professional(
        None,
        last_name="Faure",
        first_name="Nina",
        specialty=Specialty.CARDIOLOGY,
        structures=(guerche,),
        accepts_teleexpertise=True,
        teleexpertise_response_hours=48,
    )
    f.professional(
        None,
        last_name="Chevalier",
        first_name="Paul",
        specialty=Specialty.DERMATOLOGY,
        structures=(guerche,),
    )


def test_it_finds_cardiologists_near_sancoins_sorted_by_distance(
    page: Page, personas, cardiologists
) -> None:
    key = confirmed_device(personas.treating_doctor.user)
    sign_in(page, "medecin.traitant", f.PASSWORD, totp_key=key)

    page.get_by_role("link", name="Annuaire").first.click()
    expect(page.get_by_role("heading", name="Annuaire du territoire")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Spécialité").select_option(label="Cardiologie et maladies vasculaires")
    page.get_by_label("Près de la commune").fill("Sancoins")
    page.get_by_label("Dans un rayon de").select_option(label="50 km")
    with measure_transfer(page) as transfer:
        page.get_by_role("button", name="Rechercher").click()
        expect(page.get_by_role("heading", name="3 professionnels trouvés")).to_be_visible()
    assert_light(transfer)

    names = page.locator("ol.results li strong").all_inner_texts()
    assert names == ["Dr Nina Faure", "Dr Luc Garnier", "Dr Anne Perrin"]  # 19, 36, 42 km
    distances = page.locator("ol.results .distance").all_inner_texts()
    assert distances == [
        "environ 19 km par la route",
        "environ 36 km par la route",
        "environ 41 km par la route",
    ]
    expect(page.get_by_text("Lefèvre")).to_have_count(0)  # Bourges, 62 km
    expect(page.get_by_text("Télé-expertise : répond sous 48 h")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "directory-cardiologists-desktop")
    assert_fits(page, TABLET)
    assert_fits(page, PHONE)
    screenshot(page, "directory-cardiologists-phone")

    page.get_by_role("link", name="Dr Nina Faure").click()
    expect(page.get_by_role("heading", name="Dr Nina Faure")).to_be_visible()
    expect(page.get_by_text("Répond aux demandes sous 48 heures.")).to_be_visible()
    check_accessibility(page)


def test_it_explains_an_unknown_or_ambiguous_commune(page: Page, personas) -> None:
    key = confirmed_device(personas.coordinator)
    sign_in(page, "secretaire", f.PASSWORD, totp_key=key)
    page.goto("/annuaire/?commune=Sancoinz&radius=50")
    expect(
        page.get_by_text("Aucune commune du Centre-Val de Loire ne s'appelle « Sancoinz ».")
    ).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Près de la commune").fill("Lignières")
    page.get_by_role("button", name="Rechercher").click()
    expect(
        page.get_by_text("Plusieurs communes s'appellent « Lignières »", exact=False)
    ).to_be_visible()
    page.get_by_label("Près de la commune").fill("Lignières (18)")
    page.get_by_role("button", name="Rechercher").click()
    # The radius of 50 km stays selected; Bourges' hospital is about 49 km away.
    expect(page.get_by_role("heading", name="1 professionnel trouvé")).to_be_visible()
    expect(page.get_by_role("link", name="Dr Hugo Lefèvre")).to_be_visible()


def test_it_finds_teleconsultation_points_with_an_otoscope(page: Page, personas) -> None:
    point = f.structure(
        "Mairie de Nérondes — point de téléconsultation",
        StructureKind.TELECONSULTATION_POINT,
        "18160",
    )
    point.equipment.create(kind="otoscope")
    point.equipment.create(kind="camera")
    bare = f.structure(
        "Mairie de Baugy — point de téléconsultation", StructureKind.TELECONSULTATION_POINT, "18023"
    )
    bare.equipment.create(kind="camera")
    sign_in(page, "patient", f.PASSWORD)
    page.goto("/annuaire/structures/")
    page.get_by_label("Type de structure").select_option(
        label="Point de téléconsultation (mairie…)"
    )
    page.get_by_label("Otoscope").check()
    page.get_by_label("Près de la commune").fill("Sancoins")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name="1 structure trouvée")).to_be_visible()
    expect(
        page.get_by_role("link", name="Mairie de Nérondes — point de téléconsultation")
    ).to_be_visible()
    check_accessibility(page)
