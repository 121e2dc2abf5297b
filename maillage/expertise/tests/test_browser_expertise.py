"""The issue's flow in a real browser: a GP asks the dermatology pool with a photo, a pool
dermatologist takes it, asks for more, the GP replies, the dermatologist concludes; the opinion
reaches the GP's inbox and the record; the patient sees it and the accesses in her log."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, FilePayload, Page, ViewportSize, expect

from maillage.expertise.models import MessageKind, Request, Status
from maillage.expertise.tests.conftest import PDF
from maillage.files.storage import Upload
from maillage.measurements import actions as measurements
from maillage.measurements.tests.conftest import blood_pressure
from maillage.messaging.tests.conftest import fr
from maillage.records import actions as records
from maillage.records.models import DocumentType
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
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


def png(width: int = 24, height: int = 16) -> bytes:
    """A real PNG (what a phone camera hands over, smaller): a reddish patch on skin tone."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b""
    for y in range(height):
        row = b"\x00"
        for x in range(width):
            spot = (x - width // 2) ** 2 + (y - height // 2) ** 2 < 30
            row += bytes((120, 60, 50) if spot else (230, 190, 160))
        rows += row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _context(page: Page, live_url: str) -> Page:
    browser: Browser | None = page.context.browser
    assert browser is not None
    context = browser.new_context(
        base_url=live_url, locale="fr-FR", timezone_id="Europe/Paris", viewport=DESKTOP
    )
    context.set_default_timeout(15_000)
    return context.new_page()


def _check(page: Page, name: str) -> None:
    """axe-core, the phone's width, a screenshot at each width."""
    check_accessibility(page)
    screenshot(page, f"{name}-desktop")
    assert_fits(page, PHONE)
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(DESKTOP)


def test_a_gp_asks_the_dermatology_pool_and_the_opinion_comes_back(
    page: Page, personas: Any, dermatology: Any, live_url: str
) -> None:
    patient = personas.patient
    gp_user = personas.treating_doctor.user
    records.file_document(
        gp_user,
        patient,
        records.NewDocument(
            type=DocumentType.LIAISON_LETTER,
            title="Consultation du 2 mars",
            date=timezone.localdate(),
        ),
        uploads=[Upload("consultation.pdf", PDF)],
    )
    # Her own reading of this morning, offered as context rather than retyped.
    measurements.record_observation(gp_user, patient, blood_pressure("152", "94"))

    # --- The GP asks from her patient's record, with a photo from the camera.
    gp = page
    sign_in(gp, "medecin.traitant", f.PASSWORD, totp_key=confirmed_device(gp_user))
    gp.goto(f"/dossier/{patient.uuid}/")
    with measure_transfer(gp) as transfer:
        gp.get_by_role("link", name=fr("Ask for a tele-expertise")).click()
        expect(gp.get_by_role("heading", name=fr("Ask for a tele-expertise"))).to_be_visible()
    assert_light(transfer)
    _check(gp, "expertise-ask")

    gp.get_by_label(fr("Your clinical question")).fill(
        "Lésion pigmentée du dos, évolutive depuis 3 mois, asymétrique. Exérèse ?"
    )
    gp.get_by_label(fr("A pool of specialists of the territory")).select_option(
        str(dermatology.pool.uuid)
    )
    gp.locator("input[name=priority][value=soon]").check()
    gp.get_by_label("Consultation du 2 mars", exact=False).check()
    gp.get_by_label("152/94 mmHg", exact=False).check()
    camera = gp.get_by_label(fr("Take a photo"))
    assert camera.get_attribute("capture") is not None
    assert "image/*" in (camera.get_attribute("accept") or "")
    camera.set_input_files(
        files=[FilePayload(name="lesion-dos.png", mimeType="image/png", buffer=png())]
    )
    gp.get_by_label(fr("The patient consented orally to this tele-expertise")).check()
    with measure_transfer(gp) as transfer:
        gp.get_by_role("button", name=fr("Send the request")).click()
        expect(gp.get_by_text(fr("Your request was sent."))).to_be_visible()
    assert_light(transfer)
    item = Request.objects.get()
    assert item.status == Status.WAITING and item.pool == dermatology.pool
    assert item.attachments.get().file.mime == "image/png"
    expect(gp.get_by_role("link", name="lesion-dos.png")).to_be_visible()
    expect(gp.get_by_text(fr("not taken yet"))).to_be_visible()
    _check(gp, "expertise-request-asked")

    # --- A pool dermatologist finds it in her queue and takes it.
    derm = _context(gp, live_url)
    sign_in(derm, "dermato.un", f.PASSWORD, totp_key=confirmed_device(dermatology.first.user))
    with measure_transfer(derm) as transfer:
        derm.goto("/teleexpertise/file/")
        expect(
            derm.get_by_role("heading", name=fr("Tele-expertise requests to answer"))
        ).to_be_visible()
    assert_light(transfer)
    row = derm.get_by_role("listitem").filter(has_text=patient.display_name)
    expect(row).to_contain_text("Dermatologie — Cher")
    _check(derm, "expertise-queue")
    row.get_by_role("link").click()
    expect(derm.get_by_text("Lésion pigmentée du dos", exact=False)).to_be_visible()
    expect(derm.get_by_role("link", name="consultation.pdf")).to_be_visible()
    expect(derm.get_by_role("cell", name="152/94 mmHg")).to_be_visible()
    derm.get_by_role("button", name=fr("Take this request")).click()
    took = fr("You took the request: the patient's record is open to you.")
    expect(derm.get_by_text(took)).to_be_visible()

    # She asks for more; the GP's page, open all along, shows it live.
    derm.get_by_label(fr("Your message")).fill("Diamètre ? Une photo dermatoscopique ?")
    derm.get_by_role("button", name=fr("Ask the requester for more")).click()
    expect(
        derm.get_by_text(fr("Your question was sent; the clock waits for the answer."))
    ).to_be_visible()
    _check(derm, "expertise-request-specialist")
    expect(gp.get_by_text("Diamètre ? Une photo dermatoscopique ?")).to_be_visible()
    notice = gp.get_by_text(fr("Reload the page to see what you can do now."))
    expect(notice).to_be_visible()

    # --- The GP replies.
    notice.click()
    expect(gp.get_by_role("heading", name=fr("Reply to the specialist"))).to_be_visible()
    gp.get_by_label(fr("Your message")).fill("8 mm, bords irréguliers, pas de saignement.")
    gp.get_by_role("button", name=fr("Send the reply")).click()
    expect(gp.get_by_text(fr("Your message was sent."))).to_be_visible()
    item.refresh_from_db()
    assert item.status == Status.CLAIMED

    # --- The dermatologist sees the reply arrive and concludes.
    expect(derm.get_by_text("8 mm, bords irréguliers, pas de saignement.")).to_be_visible()
    derm.reload()
    derm.get_by_text(fr("Conclude with your opinion")).click()
    derm.get_by_label(fr("Your opinion")).fill(
        "Aspect suspect de mélanome : exérèse avec marges en consultation sous 15 jours."
    )
    derm.get_by_label(fr("an in-person consultation")).check()
    with measure_transfer(derm) as transfer:
        derm.get_by_role("button", name=fr("Conclude and file the opinion")).click()
        expect(
            derm.get_by_text(
                fr("Concluded: the opinion is filed in the record and sent to the requester.")
            )
        ).to_be_visible()
    assert_light(transfer)
    item.refresh_from_db()
    assert item.status == Status.CONCLUDED and item.opinion is not None
    assert list(item.messages.values_list("kind", flat=True))[-1] == MessageKind.CONCLUSION
    expect(derm.get_by_text("TE2", exact=False)).to_be_visible()
    opinion_title = item.opinion.title

    # --- The GP: the conclusion live, then the billing facts and the opinion in the record.
    expect(gp.get_by_text("Aspect suspect de mélanome", exact=False)).to_be_visible()
    gp.reload()
    expect(gp.get_by_role("link", name=opinion_title)).to_be_visible()
    expect(gp.get_by_text("RQD", exact=False)).to_be_visible()
    _check(gp, "expertise-request-concluded")
    with measure_transfer(gp) as transfer:
        gp.goto("/teleexpertise/?vue=terminees")
        expect(gp.get_by_role("heading", name=fr("My tele-expertise requests"))).to_be_visible()
    assert_light(transfer)
    expect(gp.get_by_role("listitem").filter(has_text=patient.display_name)).to_have_count(1)
    _check(gp, "expertise-mine")

    # In her inbox, the opinion's PDF; in the record, the opinion.
    gp.goto("/messagerie/")
    gp.get_by_role("link", name=opinion_title).click()
    pdf = gp.locator("a[href*='/pieces-jointes/']").filter(has_text="avis-teleexpertise")
    expect(pdf).to_be_visible()
    gp.goto(f"/dossier/{patient.uuid}/")
    expect(gp.get_by_role("link", name=opinion_title)).to_be_visible()

    # --- The patient sees the opinion among her documents and the accesses in her log.
    mine = _context(gp, live_url)
    sign_in(mine, "patient", f.PASSWORD)
    mine.goto("/dossier/mes-documents/")
    expect(mine.get_by_text(opinion_title).first).to_be_visible()
    mine.goto("/patients/mon-dossier/acces/")
    read = mine.locator("tr", has_text="Lucie Bernard").filter(
        has_text=fr("read a tele-expertise about the patient")
    )
    expect(read.first).to_be_visible()
    asked = mine.locator("tr", has_text="Claire Morel").filter(
        has_text=fr("asked a tele-expertise about the patient")
    )
    expect(asked.first).to_be_visible()
    check_accessibility(mine)
    for other in (derm, mine):
        other.context.close()
