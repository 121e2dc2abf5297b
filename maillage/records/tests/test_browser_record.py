"""The shared record in a real browser: filing, break-the-glass, masking."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Browser, FilePayload, Page, expect

from maillage.audit.models import Action, AuditEntry
from maillage.records import actions
from maillage.records.models import (
    BreakGlassAccess,
    CareTeamMember,
    CareTeamReason,
    Document,
    DocumentType,
)
from maillage.records.tests.conftest import PDF
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
REASON = "Douleur thoracique aiguë, patiente confuse, médecin traitant injoignable"


def new_page(page: Page, live_url: str) -> Page:
    browser: Browser | None = page.context.browser
    assert browser is not None
    return browser.new_context(base_url=live_url, locale="fr-FR").new_page()


def test_the_gp_files_a_report_with_a_pdf(page: Page, personas) -> None:
    sign_in(
        page,
        "medecin.traitant",
        f.PASSWORD,
        totp_key=confirmed_device(personas.treating_doctor.user),
    )
    page.goto(f"/patients/{personas.patient.uuid}/")
    page.get_by_role("link", name="Dossier partagé").click()
    expect(page.get_by_role("heading", name="Dossier partagé de GIRARD Micheline")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name="Déposer un document").click()
    check_accessibility(page)
    page.get_by_label("Type de document").select_option(label="Compte rendu de téléconsultation")
    page.get_by_label("Titre").fill("Téléconsultation du 20 novembre")
    page.get_by_label("Fichiers").set_input_files(
        files=[FilePayload(name="cr-20-11.pdf", mimeType="application/pdf", buffer=PDF)]
    )
    with measure_transfer(page) as transfer:
        page.get_by_role("button", name="Déposer dans le dossier").click()
        expect(page.get_by_text("Document déposé dans le dossier.")).to_be_visible()
    assert_light(transfer)
    expect(page.get_by_role("link", name="Téléconsultation du 20 novembre")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "record-after-filing")

    page.get_by_role("link", name="Téléconsultation du 20 novembre").click()
    link = page.get_by_role("link", name="cr-20-11.pdf")
    expect(link).to_be_visible()
    check_accessibility(page)
    response = page.request.get(link.get_attribute("href") or "")
    assert response.status == 200 and response.body() == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert "sandbox" in response.headers["content-security-policy"]

    document = Document.objects.get(title="Téléconsultation du 20 novembre")
    assert document.author == personas.treating_doctor.user
    assert document.type == DocumentType.TELECONSULTATION_REPORT


def test_a_refused_file_is_explained_and_nothing_is_filed(page: Page, personas) -> None:
    sign_in(
        page,
        "medecin.traitant",
        f.PASSWORD,
        totp_key=confirmed_device(personas.treating_doctor.user),
    )
    page.goto(f"/dossier/{personas.patient.uuid}/ajouter/")
    page.get_by_label("Titre").fill("Programme")
    page.get_by_label("Fichiers").set_input_files(
        files=[FilePayload(name="cr.pdf", mimeType="application/pdf", buffer=b"MZ\x90\x00\x03")]
    )
    page.get_by_role("button", name="Déposer dans le dossier").click()
    expect(page.get_by_text("Ce fichier est un programme ou une archive")).to_be_visible()
    expect(page.get_by_label("Titre")).to_have_value("Programme")
    check_accessibility(page)
    assert not Document.objects.exists()


def test_a_cardiologist_breaks_the_glass_and_the_patient_sees_it(
    page: Page, personas, live_url: str
) -> None:
    actions.file_document(
        personas.treating_doctor.user,
        personas.patient,
        actions.NewDocument(DocumentType.LAB_RESULTS, "Bilan du 2 novembre", dt.date(2026, 11, 2)),
        uploads=[actions.Upload("bilan.pdf", PDF)],
    )
    sign_in(page, "cardiologue", f.PASSWORD, totp_key=confirmed_device(personas.cardiologist.user))
    response = page.goto(f"/dossier/{personas.patient.uuid}/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Introuvable")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name="Accès en urgence (bris de glace)").click()
    expect(page.get_by_role("heading", name="Accès en urgence à un dossier")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Motif de l'accès en urgence").fill("urgence")
    page.get_by_role("button", name="Ouvrir le dossier en urgence").click()
    expect(
        page.get_by_text(
            "Assurez-vous que cette valeur comporte au moins 15 caractères", exact=False
        )
    ).to_be_visible()
    assert not BreakGlassAccess.objects.exists()
    page.get_by_label("Motif de l'accès en urgence").fill(REASON)
    page.get_by_role("button", name="Ouvrir le dossier en urgence").click()
    expect(page.get_by_text("Accès en urgence ouvert.", exact=False)).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text(REASON)
    check_accessibility(page)
    screenshot(page, "record-break-glass")
    page.get_by_role("link", name="Bilan du 2 novembre").click()
    expect(page.get_by_role("heading", name="Bilan du 2 novembre")).to_be_visible()

    mine = new_page(page, live_url)
    sign_in(mine, "patient", f.PASSWORD)
    mine.goto("/patients/mon-dossier/acces/")
    emergency = mine.locator("tr.break-glass", has_text="Hugo Lefèvre")
    expect(emergency.first).to_be_visible()
    expect(emergency.filter(has_text="a ouvert le dossier en urgence")).to_have_count(1)
    expect(emergency.filter(has_text="a lu un document")).to_have_count(1)
    expect(emergency.first).to_contain_text(REASON)
    check_accessibility(mine)
    assert_fits(mine, PHONE)
    screenshot(mine, "access-log-break-glass-phone")
    assert (
        AuditEntry.objects.filter(
            action=Action.DOCUMENT_READ, basis="break_glass", reason=REASON
        ).count()
        == 1
    )


def test_a_masked_document_disappears_for_the_nurse_not_for_the_treating_doctor(
    page: Page, personas, live_url: str
) -> None:
    CareTeamMember.objects.create(
        patient=personas.patient,
        professional=personas.nurse,
        reason=CareTeamReason.NAMED_BY_PATIENT,
    )
    masked = actions.file_document(
        personas.treating_doctor.user,
        personas.patient,
        actions.NewDocument(DocumentType.LAB_RESULTS, "Sérologie", dt.date(2026, 11, 3)),
        uploads=[actions.Upload("serologie.pdf", PDF)],
    )
    actions.file_document(
        personas.treating_doctor.user,
        personas.patient,
        actions.NewDocument(DocumentType.PRESCRIPTION, "Ordonnance", dt.date(2026, 11, 3)),
        uploads=[actions.Upload("ordonnance.pdf", PDF)],
    )
    sign_in(page, "patient", f.PASSWORD)
    page.get_by_role("link", name="Mes documents").first.click()
    check_accessibility(page)
    page.get_by_role("button", name="Masquer « Sérologie » aux professionnels").click()
    expect(
        page.get_by_text("« Sérologie » est désormais masqué aux professionnels")
    ).to_be_visible()
    expect(page.get_by_text("masqué aux professionnels", exact=True)).to_be_visible()
    check_accessibility(page)
    assert_fits(page, PHONE)
    screenshot(page, "my-documents-masked-phone")

    nurse = new_page(page, live_url)
    sign_in(nurse, "infirmier", f.PASSWORD, totp_key=confirmed_device(personas.nurse.user))
    nurse.goto(f"/dossier/{personas.patient.uuid}/")
    expect(nurse.get_by_role("link", name="Ordonnance")).to_be_visible()
    expect(nurse.get_by_role("link", name="Sérologie")).to_have_count(0)
    response = nurse.goto(f"/dossier/documents/{masked.uuid}/")
    assert response is not None and response.status == 404

    doctor = new_page(page, live_url)
    sign_in(
        doctor,
        "medecin.traitant",
        f.PASSWORD,
        totp_key=confirmed_device(personas.treating_doctor.user),
    )
    doctor.goto(f"/dossier/{personas.patient.uuid}/")
    row = doctor.locator("li.result", has_text="Sérologie")
    expect(row).to_contain_text("masqué par le patient")
    check_accessibility(doctor)
