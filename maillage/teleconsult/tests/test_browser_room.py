"""The room in real Chromium pages on fake camera and microphone.

The patient tests her devices, consents and waits; the doctor sees her
waiting and admits her; both receive sound and picture (inbound bytes
growing in getStats); her socket drops and she is back without being
admitted again; the chat reaches the doctor; a link opens once, a
stranger's page is refused; the doctor ends the call for everyone. (A
guest joining a three-way call is the journey's: test_browser_journey.) The
pages are read by axe-core at phone width and weighed.

Skipped on PostgreSQL: WebRTC between two pages proves nothing more there
(the suite must stay within its time).
"""

from __future__ import annotations

import os
import re
import time

import pytest
from playwright.sync_api import Browser, expect

from maillage.teleconsult import actions
from maillage.teleconsult.models import Consultation, Incident, Participant, Status
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
from maillage.testing.factories import PASSWORD
from maillage.testing.room import media_context, media_flows

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="WebRTC in the browser proves nothing more on PostgreSQL (suite time budget)",
    ),
]


def test_the_patient_waits_is_admitted_and_both_see_and_hear_each_other(
    media_chromium: Browser, live_url: str, personas, settings
) -> None:
    settings.MAILLAGE_REALTIME_HEARTBEAT_SECONDS = 2
    doctor_user = personas.treating_doctor.user
    key = confirmed_device(doctor_user)
    consultation = actions.open_consultation(
        doctor_user, personas.patient, personas.treating_doctor, reason="Renouvellement"
    )
    url = f"/teleconsultation/{consultation.uuid}/"

    patient_context = media_context(media_chromium, live_url)
    doctor_context = media_context(media_chromium, live_url)
    family_context = media_context(media_chromium, live_url)
    stranger_context = media_context(media_chromium, live_url)
    try:
        patient = patient_context.new_page()
        sign_in(patient, "patient", PASSWORD)
        with measure_transfer(patient) as transfer:
            patient.goto(url)
        assert_light(transfer)
        patient.get_by_role("button", name="Tester ma caméra et mon micro").click()
        expect(patient.get_by_text("La caméra et le micro fonctionnent")).to_be_visible()
        assert_fits(patient, PHONE)
        check_accessibility(patient)
        patient.get_by_role("button", name="J'accepte").click()
        patient.get_by_role("button", name="Entrer en salle d'attente").click()
        expect(patient.get_by_text("Le médecin sait que vous êtes là")).to_be_visible()
        check_accessibility(patient)
        screenshot(patient, "teleconsult-waiting-phone")

        doctor = doctor_context.new_page()
        doctor.on("dialog", lambda dialog: dialog.accept())
        sign_in(doctor, "medecin.traitant", PASSWORD, totp_key=key)
        doctor.goto(url)
        doctor.get_by_role("button", name="Ouvrir la salle").click()
        admit = doctor.get_by_role("button", name="Faire entrer Micheline GIRARD")
        expect(admit).to_be_visible()
        expect(doctor.locator("[data-lobby] li")).to_contain_text("attend depuis")
        check_accessibility(doctor)
        admit.click()

        media_flows(patient, peers=1)
        media_flows(doctor, peers=1)
        screenshot(doctor, "teleconsult-room-doctor-phone")
        consultation.refresh_from_db()
        assert consultation.status == Status.IN_PROGRESS and consultation.started_at

        # The patient's socket drops: she is back in the room by herself, not admitted again.
        patient.evaluate("() => window.MaillageRoom.dropSocket()")
        # (The "reconnecting" notice lasts a fraction of a second: the incidents prove the drop.)
        expect(patient.locator("[data-room-status]")).to_have_text("")
        assert patient.evaluate("() => window.MaillageRoom.state()") == "room"
        media_flows(patient, peers=1)
        deadline = time.monotonic() + 10
        kinds: list[str] = []
        while time.monotonic() < deadline and kinds != ["drop", "reconnection"]:
            kinds = list(
                Incident.objects.filter(consultation=consultation).values_list("kind", flat=True)
            )
            time.sleep(0.2)
        assert kinds == ["drop", "reconnection"], kinds

        # The chat reaches the other side.
        patient.get_by_label("Votre message").fill("J'ai mal depuis trois jours.")
        patient.get_by_role("button", name="Envoyer", exact=True).click()
        expect(doctor.locator("[data-chat]")).to_contain_text("depuis trois jours")

        # A family member's link opens once (the three-way call is the journey's,
        # test_browser_journey); a stranger's page is refused, and so is the used link.
        doctor.get_by_text("Inviter un tiers").click()
        doctor.get_by_label("Nom de l'invité").fill("Paul Girard")
        doctor.get_by_label("Qui est-ce").select_option("family")
        doctor.get_by_label("Adresse e-mail ou numéro de mobile").fill("paul@example.org")
        doctor.get_by_role("button", name="Envoyer le lien").click()
        link = re.search(r"/teleconsultation/invitation/[\w-]+/", doctor.content())
        assert link is not None
        doctor.get_by_role("button", name="Ouvrir la salle").click()
        family = family_context.new_page()
        family.goto(link.group(0))
        check_accessibility(family)
        family.get_by_role("button", name="Ouvrir la téléconsultation").click()
        expect(family.get_by_role("button", name="Entrer en salle d'attente")).to_be_visible()

        stranger = stranger_context.new_page()
        refused = stranger.goto(url)
        assert refused is not None and refused.status == 404
        opened = stranger.goto(link.group(0))
        assert opened is not None and opened.status == 200
        stranger.get_by_role("button", name="Ouvrir la téléconsultation").click()
        expect(stranger.get_by_role("alert")).to_contain_text("ne permet plus")

        doctor.get_by_role("button", name="Terminer la téléconsultation").click()
        expect(
            patient.get_by_role("heading", name="La téléconsultation est terminée")
        ).to_be_visible()
        expect(
            doctor.get_by_role("link", name="Rédiger le compte rendu", exact=True)
        ).to_be_visible()
    finally:
        for context in (patient_context, doctor_context, family_context, stranger_context):
            context.close()

    consultation.refresh_from_db()
    assert consultation.status == Status.FINISHED
    assert consultation.consents.count() == 1
    admitted = Participant.objects.filter(consultation=consultation, admitted_at__isnull=False)
    assert admitted.count() == 1  # the patient; the family member only opened his link
    assert (
        not Incident.objects.filter(consultation=consultation)
        .exclude(kind="reconnection")
        .filter(kind="failure")
        .exists()
    )
    assert Consultation.objects.count() == 1
