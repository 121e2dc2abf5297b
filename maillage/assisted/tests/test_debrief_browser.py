"""The debrief in a real browser at phone width: the conclusion, one proposal accepted and
booked, another refused with a reason, both recorded as the patient's; axe-core clean."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from maillage.agenda.models import Appointment
from maillage.assisted import debrief
from maillage.assisted.models import Choice, OrientationProposal
from maillage.assisted.tests.test_debrief import (  # noqa: F401 (fixtures)
    CONTENT,
    agendas,
    close_report,
    private_files,
)
from maillage.policy import orientation as policy
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


def test_the_assistant_debriefs_and_records_both_choices(
    page: Page,
    personas,
    act,
    agendas,  # noqa: F811
    private_files,  # noqa: F811
) -> None:
    held = act
    page.set_viewport_size(PHONE)
    sign_in(page, "infirmier", f.PASSWORD, totp_key=confirmed_device(personas.nurse.user))
    page.goto(f"/teleconsultation/{held.consultation.uuid}/bilan/")
    expect(page.get_by_text("Le médecin n'a pas encore clos le compte rendu.")).to_be_visible()
    check_accessibility(page)
    # The doctor closes the report meanwhile: the page asks every 15 s and shows it.
    close_report(personas, held)
    expect(page.get_by_role("heading", name="Ce que le médecin a conclu")).to_be_visible()
    expect(page.get_by_text(CONTENT.conclusion)).to_be_visible(timeout=25_000)
    expect(page.get_by_role("link", name="Imprimer l'ordonnance (PDF)")).to_be_visible()
    check_accessibility(page)

    # The report's orientation (the médecin traitant) presets the search: she comes first.
    offer = page.locator("[data-offer]").first
    expect(offer.get_by_text("son médecin traitant")).to_be_visible()
    offer.get_by_role("button", name="Proposer Dr Claire Morel", exact=False).first.click()
    expect(page.get_by_text("Proposé au patient : Dr Claire Morel")).to_be_visible()
    page.get_by_role("button", name="Le patient accepte : réserver").click()
    expect(
        page.get_by_text("Le patient a accepté : rendez-vous réservé avec Dr Claire Morel")
    ).to_be_visible()
    expect(page.locator("[data-proposals]").get_by_text("acceptée")).to_be_visible()

    # Another proposal: a cardiologist, remote; the patient declines it and says why.
    page.get_by_label("à distance (téléconsultation)").check()
    page.get_by_label("Spécialité").select_option(label="Cardiologie et maladies vasculaires")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("button", name="Proposer Dr Hugo Lefèvre", exact=False).first.click()
    expect(page.get_by_text("Proposé au patient : Dr Hugo Lefèvre")).to_be_visible()
    page.get_by_label("Sa raison, s'il en donne une").fill("Préfère attendre les mesures")
    page.get_by_role("button", name="Le patient refuse").click()
    expect(page.get_by_text("Le refus du patient est enregistré.")).to_be_visible()
    expect(page.get_by_text("Préfère attendre les mesures")).to_be_visible()
    check_accessibility(page)
    assert_fits(page, PHONE)
    screenshot(page, "debrief-phone")

    choices: dict[str, Any] = {
        p.professional.last_name: p
        for p in OrientationProposal.objects.select_related("professional")
    }
    assert choices["Morel"].choice == Choice.ACCEPTED
    assert choices["Lefèvre"].choice == Choice.REFUSED
    assert all(p.recorded_by == personas.nurse.user for p in choices.values())
    appointment = Appointment.objects.get(patient=personas.patient)
    assert choices["Morel"].appointment == appointment
    assert appointment.professional == personas.treating_doctor

    summary = page.request.get(f"/teleconsultation/{held.consultation.uuid}/bilan/resume/")
    assert summary.ok and summary.body().startswith(b"%PDF")
    seat = policy.debrief_seat(held.nurse_visitor, held.consultation.uuid)
    html = debrief.summary_html(
        debrief.Debrief(seat, policy.report_of(seat), policy.proposals(seat))
    )
    assert "Dr Claire Morel" in html and "acceptée — rendez-vous le" in html
    assert "refusée (Préfère attendre les mesures)" in html
