"""The thread page: participants only, read receipts, audit on the patient."""

from __future__ import annotations

import pytest
from django.utils.timezone import localtime

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.front.tests.test_home import signed_in
from maillage.messaging import actions
from maillage.messaging.tests.conftest import fr, send_about_patient
from maillage.testing.factories import page_text

pytestmark = pytest.mark.django_db


def test_it_shows_the_thread_to_the_recipient_and_records_the_read(personas) -> None:
    message = send_about_patient(personas)
    doctor = personas.treating_doctor.user

    response = signed_in(doctor).get(f"/messagerie/{message.thread.uuid}/")

    assert response.status_code == 200
    text = page_text(response)
    assert "Pansement de Mme Girard" in text and "Plaie du talon à revoir." in text
    assert "liaison.pdf" in text
    assert personas.patient.display_name in text
    delivery = message.deliveries.get()
    assert delivery.read_at is not None
    entry = AuditEntry.objects.get(patient=personas.patient, action=Action.MESSAGE_READ)
    assert entry.actor == doctor
    assert entry.outcome == Outcome.GRANTED
    assert entry.basis == "recipient"
    assert entry.detail == {"thread": str(message.thread.uuid)}


def test_the_first_opening_is_the_read_time(personas) -> None:
    message = send_about_patient(personas)
    client = signed_in(personas.treating_doctor.user)
    client.get(f"/messagerie/{message.thread.uuid}/")
    first = message.deliveries.get().read_at
    client.get(f"/messagerie/{message.thread.uuid}/")
    assert message.deliveries.get().read_at == first
    assert AuditEntry.objects.filter(action=Action.MESSAGE_READ).count() == 2


def test_the_sender_sees_the_read_receipt(personas) -> None:
    message = send_about_patient(personas)
    nurse = signed_in(personas.nurse.user)
    before = page_text(nurse.get(f"/messagerie/{message.thread.uuid}/"))
    assert fr("not read yet") in before

    signed_in(personas.treating_doctor.user).get(f"/messagerie/{message.thread.uuid}/")
    read_at = message.deliveries.get().read_at
    assert read_at is not None

    after = nurse.get(f"/messagerie/{message.thread.uuid}/")
    text = page_text(after)
    assert fr("not read yet") not in text
    assert localtime(read_at).strftime("%d/%m/%Y") in text
    # The sender's own reading is audited on the basis "sender".
    assert AuditEntry.objects.filter(
        action=Action.MESSAGE_READ, actor=personas.nurse.user, basis="sender"
    ).exists()


@pytest.mark.parametrize("who", ["cardiologist", "coordinator", "regulator", "admin"])
def test_anyone_else_gets_not_found_and_the_patient_sees_the_attempt(personas, who) -> None:
    message = send_about_patient(personas)
    response = signed_in(personas.user(who)).get(f"/messagerie/{message.thread.uuid}/")
    assert response.status_code == 404
    assert "Plaie" not in page_text(response)
    entry = AuditEntry.objects.get(action=Action.MESSAGE_READ, actor=personas.user(who))
    assert entry.patient == personas.patient
    assert entry.outcome == Outcome.DENIED
    assert message.deliveries.get().read_at is None


def test_a_thread_about_nobody_is_refused_without_a_patient_entry(personas) -> None:
    message = actions.send_message(
        personas.treating_doctor.user,
        actions.Draft(subject="Garde", body="Planning", professionals=[personas.nurse]),
    )
    response = signed_in(personas.cardiologist.user).get(f"/messagerie/{message.thread.uuid}/")
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action=Action.MESSAGE_READ).exists()


def test_a_missing_thread_looks_like_a_refused_one(personas) -> None:
    client = signed_in(personas.cardiologist.user)
    response = client.get("/messagerie/0b6cbd5c-4a5c-4b8e-8a30-1c0d5b2f6a11/")
    assert response.status_code == 404


def test_patients_have_no_messaging(personas) -> None:
    message = send_about_patient(personas)
    client = signed_in(personas.patient_user)
    assert client.get(f"/messagerie/{message.thread.uuid}/").status_code == 403
    assert client.get("/messagerie/").status_code == 403
