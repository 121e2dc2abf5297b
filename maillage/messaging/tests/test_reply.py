"""Replies stay in the thread and reach every other participant."""

from __future__ import annotations

import pytest

from maillage.audit.models import Action, AuditEntry
from maillage.front.tests.test_home import signed_in
from maillage.messaging import actions
from maillage.messaging.models import Message, Thread
from maillage.messaging.tests.conftest import EXECUTABLE, PDF, send_about_patient
from maillage.testing.factories import page_text

pytestmark = pytest.mark.django_db


def test_it_replies_in_the_same_thread(personas) -> None:
    first = send_about_patient(personas)
    doctor = personas.treating_doctor.user

    response = signed_in(doctor).post(
        f"/messagerie/{first.thread.uuid}/repondre/", {"body": "Je passe jeudi."}
    )

    assert response.status_code == 302
    assert Thread.objects.count() == 1
    answer = Message.objects.exclude(pk=first.pk).get()
    assert response["Location"] == f"/messagerie/{first.thread.uuid}/#message-{answer.uuid}"
    assert answer.thread == first.thread
    assert answer.sender == doctor
    assert [d.user for d in answer.deliveries.all()] == [personas.nurse.user]
    entry = AuditEntry.objects.get(action=Action.MESSAGE_SEND, actor=doctor)
    assert entry.patient == personas.patient and entry.basis == "treating_doctor"
    thread = Thread.objects.get()
    assert thread.last_message_at == answer.sent_at


def test_the_reply_shows_in_the_thread_unread_for_the_other(personas) -> None:
    first = send_about_patient(personas)
    actions.reply(personas.treating_doctor.user, first.thread, "Bien reçu.")
    text = page_text(signed_in(personas.nurse.user).get(f"/messagerie/{first.thread.uuid}/"))
    assert "Plaie du talon" in text and "Bien reçu." in text


def test_an_outsider_cannot_reply(personas) -> None:
    first = send_about_patient(personas)
    response = signed_in(personas.cardiologist.user).post(
        f"/messagerie/{first.thread.uuid}/repondre/", {"body": "Intrusion"}
    )
    assert response.status_code == 404
    assert Message.objects.count() == 1
    assert AuditEntry.objects.filter(
        action=Action.MESSAGE_SEND, actor=personas.cardiologist.user, outcome="denied"
    ).exists()


def test_a_refused_file_in_a_reply_is_explained_next_to_the_field(personas) -> None:
    first = send_about_patient(personas)
    response = signed_in(personas.treating_doctor.user).post(
        f"/messagerie/{first.thread.uuid}/repondre/",
        {"body": "Voir pièce", "attachments": [_file("outil.exe", EXECUTABLE)]},
    )
    assert response.status_code == 400
    text = page_text(response)
    assert "outil.exe" in text and "Ce fichier est un programme ou une archive" in text
    assert 'id="id_reply_attachments_error"' in text
    assert Message.objects.count() == 1


def test_a_reply_may_carry_a_pdf(personas) -> None:
    first = send_about_patient(personas)
    signed_in(personas.treating_doctor.user).post(
        f"/messagerie/{first.thread.uuid}/repondre/",
        {"body": "Ordonnance jointe", "attachments": [_file("ordo.pdf", PDF)]},
    )
    answer = Message.objects.exclude(pk=first.pk).get()
    assert answer.attachments.get().file.original_name == "ordo.pdf"


def _file(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/pdf")
