"""Two professionals exchange a message with a PDF; the doctor files it into the record."""

from __future__ import annotations

import pytest
from django.utils.timezone import localtime
from playwright.sync_api import Browser, FilePayload, Page, expect

from maillage.messaging.models import Delivery, Message
from maillage.messaging.tests.conftest import PDF, fr
from maillage.records.models import Document, DocumentType
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


def _other_page(page: Page, live_url: str) -> Page:
    browser: Browser | None = page.context.browser
    assert browser is not None
    return browser.new_context(base_url=live_url, locale="fr-FR").new_page()


def test_a_nurse_writes_to_the_doctor_who_files_the_pdf(
    page: Page, personas, live_url: str
) -> None:
    patient = personas.patient
    # The nurse writes from the patient's page ("Write about this patient").
    sign_in(page, "infirmier", f.PASSWORD, totp_key=confirmed_device(personas.nurse.user))
    with measure_transfer(page) as transfer:
        page.goto(f"/messagerie/nouveau/?patient={patient.uuid}")
        expect(page.get_by_role("heading", name=fr("New secure message"))).to_be_visible()
    assert_light(transfer)
    expect(page.get_by_text(patient.display_name)).to_be_visible()
    check_accessibility(page)
    assert_fits(page, PHONE)
    page.set_viewport_size({"width": 1280, "height": 900})

    recipients = page.get_by_label(fr("Recipients from the directory"))
    recipients.fill("Morel")
    suggestion = page.locator("#recipient-suggestions option").first
    expect(suggestion).to_contain_text("Dr Claire Morel", timeout=5000)
    recipients.fill(suggestion.get_attribute("value") or "")
    page.get_by_label(fr("Subject")).fill("Pansement de Mme Girard")
    page.get_by_role("textbox", name=fr("Message"), exact=True).fill(
        "Plaie du talon à revoir jeudi."
    )
    page.get_by_label(fr("Attachments")).set_input_files(
        files=[FilePayload(name="photo-plaie.pdf", mimeType="application/pdf", buffer=PDF)]
    )
    with measure_transfer(page) as transfer:
        page.get_by_role("button", name=fr("Send"), exact=True).click()
        expect(page.get_by_text(fr("Message sent."))).to_be_visible()
    assert_light(transfer)
    expect(page.get_by_role("heading", name="Pansement de Mme Girard")).to_be_visible()
    expect(page.get_by_text(fr("not read yet"))).to_be_visible()
    check_accessibility(page)
    thread_url = page.url
    message = Message.objects.get()
    assert message.thread.patient == patient

    # The médecin traitant finds it unread in her inbox.
    doctor = _other_page(page, live_url)
    sign_in(
        doctor,
        "medecin.traitant",
        f.PASSWORD,
        totp_key=confirmed_device(personas.treating_doctor.user),
    )
    with measure_transfer(doctor) as transfer:
        doctor.goto("/messagerie/")
        expect(doctor.get_by_role("heading", name=fr("Secure messages"))).to_be_visible()
    assert_light(transfer)
    row = doctor.get_by_role("listitem").filter(has_text="Pansement de Mme Girard")
    expect(row.get_by_text(fr("unread"), exact=True)).to_be_visible()
    expect(row).not_to_contain_text(patient.display_name)
    check_accessibility(doctor)
    assert_fits(doctor, PHONE)
    screenshot(doctor, "messaging-inbox-phone")
    doctor.set_viewport_size({"width": 1280, "height": 900})

    with measure_transfer(doctor) as transfer:
        row.get_by_role("link", name="Pansement de Mme Girard").click()
        expect(doctor.get_by_text("Plaie du talon à revoir jeudi.")).to_be_visible()
    assert_light(transfer)
    expect(doctor.get_by_role("link", name="photo-plaie.pdf")).to_be_visible()
    check_accessibility(doctor)
    assert_fits(doctor, PHONE)
    screenshot(doctor, "messaging-thread-phone")
    doctor.set_viewport_size({"width": 1280, "height": 900})
    assert Delivery.objects.get().read_at is not None

    # The nurse sees the read receipt.
    page.goto(thread_url)
    expect(page.get_by_text(fr("not read yet"))).to_have_count(0)
    read_at = Delivery.objects.get().read_at
    assert read_at is not None
    expect(page.locator(".tag-ok")).to_contain_text(localtime(read_at).strftime("%d/%m/%Y"))
    check_accessibility(page)

    # One click files the PDF into the record.
    filing = doctor.get_by_role("group", name="photo-plaie.pdf")
    filing.get_by_label(fr("Type of document")).select_option(DocumentType.LIAISON_LETTER.value)
    filing.get_by_label(fr("Title in the record")).fill("Plaie du talon : courrier de l'IDE")
    with measure_transfer(doctor) as transfer:
        filing.get_by_role("button", name=fr("File into the record")).click()
        expect(doctor.get_by_text(fr("File filed in the patient's record."))).to_be_visible()
    assert_light(transfer)
    expect(doctor.get_by_role("link", name="Plaie du talon : courrier de l'IDE")).to_be_visible()
    check_accessibility(doctor)

    document = Document.objects.get()
    assert document.patient == patient
    assert document.document_files.get().file_id == message.attachments.get().file_id

    # She answers with the document now in the record: the same sealed file, no copy.
    with measure_transfer(doctor) as transfer:
        doctor.get_by_role("link", name=fr("Reply with documents from the record")).click()
        expect(doctor.get_by_role("textbox", name=fr("Your reply"), exact=True)).to_be_visible()
    assert_light(transfer)
    check_accessibility(doctor)
    assert_fits(doctor, PHONE)
    doctor.set_viewport_size({"width": 1280, "height": 900})
    doctor.get_by_role("textbox", name=fr("Your reply"), exact=True).fill("Classé, merci.")
    doctor.get_by_label("Plaie du talon : courrier de l'IDE", exact=False).check()
    doctor.get_by_role("button", name=fr("Send the reply")).click()
    expect(doctor.get_by_text(fr("Message sent."))).to_be_visible()
    answer = Message.objects.get(sender=personas.treating_doctor.user)
    assert answer.attachments.get().file_id == message.attachments.get().file_id
    assert answer.attachments.get().source_document == document

    doctor.goto(f"/dossier/{patient.uuid}/")
    expect(doctor.get_by_role("link", name="Plaie du talon : courrier de l'IDE")).to_be_visible()
    check_accessibility(doctor)
    doctor.context.close()
