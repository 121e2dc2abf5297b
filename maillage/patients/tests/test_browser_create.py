"""A secretary registers patients: a wrong INS key, then a duplicate identity."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.patients.models import Patient
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


def fill_identity(
    page: Page, *, birth_name: str, given: str, birth_date: str, sex: str, matricule: str = ""
) -> None:
    page.get_by_role("textbox", name="Nom de naissance", exact=True).fill(birth_name)
    page.get_by_role("textbox", name="Premier prénom de naissance", exact=True).fill(given)
    page.get_by_label("Date de naissance").fill(birth_date)
    page.get_by_label(sex, exact=True).check()
    page.get_by_label("Matricule INS").fill(matricule)


def test_it_refuses_a_wrong_ins_key_with_a_clear_message(page: Page, personas) -> None:
    key = confirmed_device(personas.coordinator)
    sign_in(page, "secretaire", f.PASSWORD, totp_key=key)
    page.get_by_role("link", name="Enregistrer un patient").first.click()
    expect(page.get_by_role("heading", name="Enregistrer un patient")).to_be_visible()
    check_accessibility(page)

    good = f.matricule("M", dt.date(1961, 7, 2), place="18242", order=37)
    wrong = good[:13] + f"{(int(good[13:]) % 97) + 1:02d}"
    fill_identity(
        page,
        birth_name="Bernard",
        given="Louis",
        birth_date="1961-07-02",
        sex="Masculin",
        matricule=wrong,
    )
    page.get_by_label("Commune de résidence").fill("Sancoins")
    with measure_transfer(page) as transfer:
        page.get_by_role("button", name="Enregistrer").click()
        expect(page.get_by_role("alert")).to_contain_text("Veuillez corriger l'erreur ci-dessous.")
    assert_light(transfer)
    expect(
        page.get_by_text("La clé de ce matricule INS (ses 2 derniers chiffres) ne correspond pas")
    ).to_be_visible()
    # What was typed is still there, nothing is lost.
    expect(page.get_by_role("textbox", name="Nom de naissance", exact=True)).to_have_value(
        "Bernard"
    )
    check_accessibility(page)
    assert_fits(page, PHONE)
    screenshot(page, "patient-create-wrong-key-phone")
    assert not Patient.objects.filter(birth_name="Bernard").exists()

    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("Matricule INS").fill(
        " ".join([good[:1], good[1:3], good[3:5], good[5:13], good[13:]])
    )
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Patient enregistré.")).to_be_visible()
    expect(page.get_by_role("heading", name="BERNARD Louis")).to_be_visible()
    check_accessibility(page)
    created = Patient.objects.get(birth_name="Bernard")
    assert created.ins_matricule == good
    assert list(created.followed_by.all()) == [personas.msp]
    assert AuditEntry.objects.filter(
        patient=created, action=Action.PATIENT_CREATE, actor=personas.coordinator
    ).exists()


def test_it_proposes_the_existing_patient_instead_of_a_duplicate(page: Page, personas) -> None:
    elsewhere = f.structure("Maison de santé de Mehun", insee_code="18141")
    existing = f.patient(
        "DUPONT-LEFÈVRE", "Jeanne", dt.date(1950, 5, 12), "F", followed_by=(elsewhere,)
    )
    key = confirmed_device(personas.coordinator)
    sign_in(page, "secretaire", f.PASSWORD, totp_key=key)
    page.goto("/patients/nouveau/")
    fill_identity(
        page, birth_name="dupont lefevre", given="JEANNE", birth_date="1950-05-12", sex="Féminin"
    )
    page.get_by_role("button", name="Enregistrer").click()

    warning = page.get_by_role("alert").filter(
        has_text="Cette personne est peut-être déjà enregistrée"
    )
    expect(warning).to_be_visible()
    expect(warning.get_by_role("heading", name="DUPONT-LEFÈVRE Jeanne")).to_be_visible()
    expect(warning).to_contain_text("12/05/1950")
    check_accessibility(page)
    screenshot(page, "patient-create-duplicate")
    assert Patient.objects.filter(match_key=existing.match_key).count() == 1
    assert AuditEntry.objects.filter(
        patient=existing,
        action=Action.DUPLICATE_REVIEW,
        outcome=Outcome.GRANTED,
        basis="identity_vigilance",
        actor=personas.coordinator,
    ).exists()

    # The traits are not proof: the matricule INS with its key is asked for.
    warning.get_by_label("Matricule INS de cette personne, avec sa clé").fill(
        str(existing.ins_matricule)
    )
    warning.get_by_role("button", name="C'est cette personne : utiliser cette fiche").click()
    expect(
        page.get_by_text("La fiche existante est désormais suivie par votre structure.")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="DUPONT-LEFÈVRE Jeanne")).to_be_visible()
    assert Patient.objects.filter(match_key=existing.match_key).count() == 1
    assert set(existing.followed_by.all()) == {elsewhere, personas.msp}
    assert AuditEntry.objects.filter(
        patient=existing, action=Action.PATIENT_LINK, outcome=Outcome.GRANTED, basis="ins_proof"
    ).exists()


def test_it_creates_a_homonym_only_when_confirmed(page: Page, personas) -> None:
    existing = f.patient("MARTIN", "Paul", dt.date(1970, 1, 1), "M", followed_by=(personas.msp,))
    key = confirmed_device(personas.coordinator)
    sign_in(page, "secretaire", f.PASSWORD, totp_key=key)
    page.goto("/patients/nouveau/")
    fill_identity(page, birth_name="Martin", given="Paul", birth_date="1970-01-01", sex="Masculin")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Cette personne est peut-être déjà enregistrée")).to_be_visible()
    page.get_by_label(
        "J'ai vérifié : il s'agit d'une autre personne avec les mêmes traits."
    ).check()
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.get_by_text("Patient enregistré.")).to_be_visible()
    twins = Patient.objects.filter(match_key=existing.match_key)
    assert twins.count() == 2
    created = twins.exclude(pk=existing.pk).get()
    entry = AuditEntry.objects.get(patient=created, action=Action.PATIENT_CREATE)
    assert entry.detail["confirmed_distinct_from"] == [str(existing.uuid)]
