"""The doctor closes the report on a phone; it reaches the médecin traitant and the patient.

Real Chromium on the served app: the report page (eligibility shown, one
form), axe-core, the page's weight, the closing, then the patient's side.
Skipped on PostgreSQL: the pages and the browser prove nothing more there
(the closing's transaction runs on both in ``test_closing``).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from maillage.acts.tests.conftest import CONTENT
from maillage.messaging.tests.conftest import fr
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

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="a page test proves nothing more on PostgreSQL (test_closing runs on both)",
    ),
]


def test_the_doctor_closes_the_report_and_the_patient_reads_it(
    page: Page, personas: Any, call: Any, live_url: str
) -> None:
    doctor = personas.cardiologist.user
    page.set_viewport_size(PHONE)
    sign_in(page, "cardiologue", f.PASSWORD, totp_key=confirmed_device(doctor))
    page.get_by_role("link", name=fr("Teleconsultation reports to write")).first.click()
    expect(
        page.get_by_role("heading", name=fr("Teleconsultation reports to write"))
    ).to_be_visible()
    check_accessibility(page)
    with measure_transfer(page) as transfer:
        page.get_by_role("link", name=personas.patient.display_name).click()
        expect(
            page.get_by_role("heading", name=fr("Teleconsultation report"), level=1)
        ).to_be_visible()
    assert_light(transfer)
    expect(page.get_by_role("heading", name=fr("Billing of the teleconsultation"))).to_be_visible()
    expect(page.get_by_text("TC", exact=False).first).to_be_visible()
    expect(page.get_by_label(fr("Reason for the consultation"))).to_have_value(CONTENT.reason)
    page.get_by_label(fr("Observations")).fill(CONTENT.observations)
    page.get_by_label(fr("Conclusion")).fill(CONTENT.conclusion)
    page.get_by_label(fr("Prescriptions")).fill(CONTENT.prescriptions)
    page.get_by_label(fr("Follow-up")).fill(CONTENT.follow_up)
    page.get_by_label(fr("Orientation")).select_option(CONTENT.orientation)
    check_accessibility(page)
    assert_fits(page, PHONE)
    screenshot(page, "acts-report-form-phone")

    page.get_by_role("button", name=fr("Close and send the report")).click()

    expect(
        page.get_by_text(fr("Closed: the report is filed in the record and sent."))
    ).to_be_visible()
    expect(page.get_by_role("heading", name=fr("The act recorded"))).to_be_visible()
    expect(page.get_by_role("link", name="Ordonnance", exact=False)).to_be_visible()
    check_accessibility(page)
    screenshot(page, "acts-report-closed-phone")

    # The médecin traitant finds it in her inbox, both PDFs attached.
    page.context.clear_cookies()
    gp = personas.treating_doctor.user
    sign_in(page, "medecin.traitant", f.PASSWORD, totp_key=confirmed_device(gp))
    page.goto("/messagerie/")
    page.get_by_role("link", name="Compte rendu de téléconsultation", exact=False).first.click()
    expect(page.get_by_text("compte-rendu-teleconsultation-", exact=False).first).to_be_visible()
    expect(page.get_by_text("ordonnance-", exact=False).first).to_be_visible()

    # The patient finds both in her documents, and the doctor in her access log.
    page.context.clear_cookies()
    sign_in(page, "patient", f.PASSWORD)
    page.goto("/dossier/mes-documents/")
    expect(page.get_by_text("Compte rendu de téléconsultation", exact=False).first).to_be_visible()
    expect(page.get_by_text("Ordonnance du", exact=False).first).to_be_visible()
    check_accessibility(page)
    page.goto("/patients/mon-dossier/acces/")
    expect(page.get_by_text("Lefèvre", exact=False).first).to_be_visible()
