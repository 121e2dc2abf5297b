"""The whole teleconsultation, clicked as people do, in real Chromium pages on fake devices.

One journey: the patient books a remote slot with the cardiologist through
the agenda's pages and goes from her appointment into the waiting room; the
cardiologist comes from his agenda's day to the same appointment and into the
room, and admits her; both receive sound and picture (inbound bytes growing
in getStats); her son joins by the link the doctor sent; the doctor ends the
call and closes the report in its one form; the PDF reaches the médecin
traitant's inbox and the patient's documents; the patient's access log shows
who opened what. Each step is checked on the screen (French) and in the
database. At phone width, every page fits and is seen in a screenshot; the
booking form, the waiting room and the report form are weighed (150 KB);
axe-core reads the appointment with its "join" form (the other pages are
read in the same state by the agenda's, the room's and the acts' tests).

Skipped on PostgreSQL, like the room's test: WebRTC between pages proves
nothing more there (the suite's time budget).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from maillage.acts import defaults
from maillage.acts.models import RecordedAct, Report, ReportStatus
from maillage.agenda.models import Appointment, AppointmentStatus, Modality, SlotStatus
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.messaging.models import Delivery
from maillage.records.models import Document, DocumentType
from maillage.teleconsult.models import (
    Consultation,
    Incident,
    Participant,
    ParticipantRole,
    Status,
)
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

REASON = "Palpitations depuis une semaine"


def _books_a_remote_slot(patient: Page, personas: Any) -> Appointment:
    sign_in(patient, "patient", PASSWORD)
    patient.get_by_role("navigation").get_by_role("link", name="Rendez-vous").click()
    expect(patient.get_by_role("heading", name="Mes rendez-vous")).to_be_visible()
    patient.get_by_role("link", name="Prendre rendez-vous").click()
    patient.get_by_label("à distance (téléconsultation)").check()
    patient.get_by_role("button", name="Rechercher").click()
    expect(patient.get_by_role("heading", name="Résultats")).to_be_visible()
    hit = patient.locator(".free-hit").filter(has_text="Lefèvre")
    with measure_transfer(patient) as transfer:
        hit.locator("a.button").first.click()
        expect(patient.get_by_role("heading", name="Réserver ce créneau")).to_be_visible()
    assert_light(transfer)
    patient.get_by_label("à distance (téléconsultation)").check()
    patient.get_by_label("Motif du rendez-vous").fill(REASON)
    patient.get_by_role("button", name="Réserver", exact=True).click()
    expect(patient.get_by_text("Le rendez-vous est réservé.")).to_be_visible()
    expect(patient.get_by_text("Hugo Lefèvre")).to_be_visible()
    check_accessibility(patient)  # its "join" form is this journey's own
    assert_fits(patient, PHONE)
    screenshot(patient, "journey-1-appointment-patient-phone")

    appointment = Appointment.objects.get()
    assert appointment.patient == personas.patient
    assert appointment.professional == personas.cardiologist
    assert appointment.modality == Modality.REMOTE and appointment.reason == REASON
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.slot is not None and appointment.slot.status == SlotStatus.BUSY
    return appointment


def _waits(patient: Page, appointment: Appointment) -> Consultation:
    """From her appointment into the waiting room: devices tested, consent given."""
    with measure_transfer(patient) as transfer:
        patient.get_by_role("button", name="Rejoindre la téléconsultation").click()
        patient.get_by_role("button", name="Tester ma caméra et mon micro").wait_for()
    assert_light(transfer)
    consultation = Consultation.objects.get(appointment=appointment)
    assert consultation.reason == REASON and consultation.planned_start == appointment.start
    expect(patient).to_have_url(re.compile(rf"/teleconsultation/{consultation.uuid}/$"))
    patient.get_by_role("button", name="Tester ma caméra et mon micro").click()
    expect(patient.get_by_text("La caméra et le micro fonctionnent")).to_be_visible()
    patient.get_by_role("button", name="J'accepte").click()
    patient.get_by_role("button", name="Entrer en salle d'attente").click()
    expect(patient.get_by_text("Le médecin sait que vous êtes là")).to_be_visible()
    # (axe-core reads the waiting room in this state in test_browser_room.)
    assert_fits(patient, PHONE)
    screenshot(patient, "journey-2-waiting-room-patient-phone")
    assert consultation.consents.count() == 1
    return consultation


def _doctor_comes_from_his_agenda(doctor: Page, personas: Any, appointment: Appointment) -> None:
    sign_in(doctor, "cardiologue", PASSWORD, totp_key=confirmed_device(personas.cardiologist.user))
    doctor.get_by_role("navigation").get_by_role("link", name="Rendez-vous").click()
    doctor.get_by_role("link", name="Jour", exact=True).first.click()
    expect(doctor).to_have_url(re.compile(r"/jour/$"))
    # Her slot is later today or on one of the next days (the agenda opens 3 days ahead).
    day = timezone.localdate()
    for _ in range(3):
        if day >= timezone.localtime(appointment.start).date():
            break
        day += dt.timedelta(days=1)
        doctor.get_by_role("link", name="Jour suivant").click()
        expect(doctor).to_have_url(re.compile(rf"jour={day.isoformat()}$"))
    doctor.get_by_role("link", name="GIRARD Micheline").click()
    expect(doctor.get_by_text(REASON)).to_be_visible()
    doctor.get_by_role("button", name="Rejoindre la téléconsultation").click()
    doctor.get_by_role("button", name="Ouvrir la salle").click()


def _admits(doctor: Page, patient: Page, consultation: Consultation) -> None:
    admit = doctor.get_by_role("button", name="Faire entrer Micheline GIRARD")
    expect(admit).to_be_visible()
    expect(doctor.locator("[data-lobby] li")).to_contain_text("attend depuis")
    consultation.refresh_from_db()
    assert consultation.status == Status.WAITING
    admit.click()
    media_flows(patient, peers=1)
    media_flows(doctor, peers=1)
    # Each sees the other's picture under the other's name.
    expect(doctor.locator("[data-tiles] figcaption")).to_contain_text(["Micheline GIRARD"])
    expect(patient.locator("[data-tiles] figcaption")).to_contain_text(["Hugo Lefèvre"])
    screenshot(doctor, "journey-3-room-doctor-phone")
    screenshot(patient, "journey-3-room-patient-phone")
    # The status under the title follows the call, on both sides.
    for page in (doctor, patient):
        expect(page.locator("[data-act-status]")).to_have_text("en cours")
    consultation.refresh_from_db()
    assert consultation.status == Status.IN_PROGRESS and consultation.started_at
    seated = Participant.objects.get(consultation=consultation, role=ParticipantRole.PATIENT)
    assert seated.admitted_at is not None


def _family_joins_by_link(doctor: Page, family: Page, patient: Page) -> None:
    doctor.get_by_text("Inviter un tiers").click()
    doctor.get_by_label("Nom de l'invité").fill("Paul Girard")
    doctor.get_by_label("Qui est-ce").select_option("family")
    doctor.get_by_label("Adresse e-mail ou numéro de mobile").fill("paul@example.org")
    doctor.get_by_role("button", name="Envoyer le lien").click()
    expect(doctor.get_by_text("Invitation envoyée à Paul Girard")).to_be_visible()
    link = re.search(r"/teleconsultation/invitation/[\w-]+/", doctor.content())
    assert link is not None
    sent = [m for m in mail.outbox if m.to == ["paul@example.org"]]
    assert len(sent) == 1 and link.group(0) in sent[0].body
    doctor.get_by_role("button", name="Ouvrir la salle").click()

    family.goto(link.group(0))
    family.get_by_role("button", name="Ouvrir la téléconsultation").click()
    family.get_by_role("button", name="Entrer en salle d'attente").click()
    expect(family.get_by_text("Le médecin sait que vous êtes là")).to_be_visible()
    doctor.get_by_role("button", name="Faire entrer Paul Girard").click()
    media_flows(family, peers=2)
    media_flows(patient, peers=2)
    media_flows(doctor, peers=2)
    expect(doctor.locator("[data-tiles] figcaption", has_text="Paul Girard")).to_have_count(1)
    expect(patient.locator("[data-tiles] figcaption", has_text="Paul Girard")).to_have_count(1)


def _ends_and_reports(doctor: Page, patient: Page, family: Page) -> None:
    doctor.get_by_role("button", name="Terminer la téléconsultation").click()
    for page in (patient, family):
        expect(page.get_by_role("heading", name="La téléconsultation est terminée")).to_be_visible()
        expect(page.locator("[data-act-status]")).to_have_text("terminée")
    with measure_transfer(doctor) as transfer:
        doctor.get_by_role("link", name="Rédiger le compte rendu", exact=True).click()
        expect(
            doctor.get_by_role("heading", name="Compte rendu de téléconsultation", level=1)
        ).to_be_visible()
    assert_light(transfer)
    expect(doctor.get_by_role("heading", name="Facturation de la téléconsultation")).to_be_visible()
    expect(doctor.get_by_label("Motif de la consultation")).to_have_value(REASON)
    doctor.get_by_label("Observations").fill("Pouls régulier à 72, pas de signe d'insuffisance.")
    doctor.get_by_label("Conclusion").fill("Extrasystoles probables, bénignes.")
    doctor.get_by_label("Prescriptions").fill("Holter ECG des 24 heures.")
    doctor.get_by_label("Suivi").fill("Revoir avec le Holter dans un mois.")
    doctor.get_by_label("Orientation").select_option(label="suivi par le médecin traitant")
    # (axe-core reads the report form in acts' test_browser_report.)
    assert_fits(doctor, PHONE)
    screenshot(doctor, "journey-4-report-doctor-phone")
    doctor.get_by_role("button", name="Clore et envoyer le compte rendu").click()
    expect(
        doctor.get_by_text("Clos : le compte rendu est classé dans le dossier et envoyé.")
    ).to_be_visible()
    expect(doctor.get_by_role("heading", name="L'acte enregistré")).to_be_visible()
    screenshot(doctor, "journey-5-report-closed-doctor-phone")


def _treating_doctor_reads_it(page: Page, personas: Any) -> None:
    sign_in(
        page, "medecin.traitant", PASSWORD, totp_key=confirmed_device(personas.treating_doctor.user)
    )
    page.get_by_role("navigation").get_by_role("link", name="Messagerie").click()
    page.get_by_role("link", name="Compte rendu de téléconsultation", exact=False).first.click()
    expect(page.get_by_text("compte-rendu-teleconsultation-", exact=False).first).to_be_visible()
    expect(page.get_by_text("ordonnance-", exact=False).first).to_be_visible()
    screenshot(page, "journey-6-inbox-treating-doctor-phone")


def _patient_finds_it(patient: Page) -> None:
    patient.get_by_role("link", name="Maillage", exact=True).click()
    patient.get_by_role("link", name="Mes documents").click()
    expect(
        patient.get_by_text("Compte rendu de téléconsultation", exact=False).first
    ).to_be_visible()
    expect(patient.get_by_text("Ordonnance du", exact=False).first).to_be_visible()
    screenshot(patient, "journey-7-documents-patient-phone")
    patient.get_by_role("link", name="Maillage", exact=True).click()
    patient.get_by_role("link", name="Qui a consulté mon dossier").click()
    expect(patient.get_by_role("heading", name="Accès à mon dossier")).to_be_visible()
    screenshot(patient, "journey-8-access-log-patient-phone")
    # The newest first: the closing's writes and sends, then the call itself.
    by_doctor = patient.locator("tr", has_text="Hugo Lefèvre")
    expect(by_doctor.filter(has_text="a ajouté un document").first).to_be_visible()
    expect(by_doctor.filter(has_text="téléconsultation du patient").first).to_be_visible()
    by_treating = patient.locator("tr", has_text="Claire Morel")
    expect(
        by_treating.filter(has_text="a lu un message concernant le patient").first
    ).to_be_visible()
    assert_fits(patient, PHONE)


def test_a_booked_remote_appointment_goes_to_a_report_in_the_record_and_the_inbox(
    media_chromium: Browser,
    live_url: str,
    personas: Any,
    agendas: Any,
    private_files: None,
) -> None:
    defaults.ensure_now()  # the billing rules and tariffs (emptied by the transactional tests)
    contexts = [media_context(media_chromium, live_url) for _ in range(4)]
    patient, doctor, family, treating = (context.new_page() for context in contexts)
    doctor.on("dialog", lambda dialog: dialog.accept())  # "End the teleconsultation for everyone?"
    try:
        appointment = _books_a_remote_slot(patient, personas)
        consultation = _waits(patient, appointment)
        _doctor_comes_from_his_agenda(doctor, personas, appointment)
        _admits(doctor, patient, consultation)
        _family_joins_by_link(doctor, family, patient)
        _ends_and_reports(doctor, patient, family)
        _treating_doctor_reads_it(treating, personas)
        _patient_finds_it(patient)
    except AssertionError as error:
        # A picture that stops is most often the product's own switch to audio only on a
        # line it measured poor (a loaded machine): say so with the failure.
        kinds = list(Incident.objects.values_list("kind", flat=True))
        raise AssertionError(f"{error}\nincidents of the act: {kinds}") from error
    finally:
        for context in contexts:
            context.close()

    consultation.refresh_from_db()
    appointment.refresh_from_db()
    assert consultation.status == Status.FINISHED
    assert appointment.status == AppointmentStatus.FULFILLED
    admitted = Participant.objects.filter(consultation=consultation, admitted_at__isnull=False)
    assert sorted(admitted.values_list("role", flat=True)) == sorted(
        [ParticipantRole.PATIENT, ParticipantRole.FAMILY]
    )
    report = Report.objects.get(consultation=consultation)
    assert report.status == ReportStatus.CLOSED and not report.problem
    act = RecordedAct.objects.get(report=report)
    assert act.patient == personas.patient and act.doctor == personas.cardiologist
    assert report.document is not None
    filed = Document.objects.get(pk=report.document.pk)
    assert filed.patient == personas.patient and filed.type == DocumentType.TELECONSULTATION_REPORT
    delivery = Delivery.objects.get(user=personas.treating_doctor.user)
    assert delivery.message.sender == personas.cardiologist.user
    assert delivery.message.attachments.count() == 2
    by_doctor = set(
        AuditEntry.objects.filter(
            patient=personas.patient, actor=personas.cardiologist.user, outcome=Outcome.GRANTED
        ).values_list("action", flat=True)
    )
    assert {Action.APPOINTMENT_READ, Action.TELECONSULT_READ} <= by_doctor, by_doctor
    by_patient = set(
        AuditEntry.objects.filter(patient=personas.patient, actor=personas.patient_user)
        .filter(outcome=Outcome.GRANTED)
        .values_list("action", flat=True)
    )
    assert {Action.APPOINTMENT_BOOK, Action.TELECONSULT_OPEN} <= by_patient, by_patient
