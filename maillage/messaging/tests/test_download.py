"""Downloading an attachment: through the thread gate, checked on read."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.front.tests.test_home import signed_in
from maillage.messaging.tests.conftest import PDF, send_about_patient
from maillage.testing.factories import page_text

pytestmark = pytest.mark.django_db


def _url(message) -> str:
    attachment = message.attachments.get()
    return f"/messagerie/{message.thread.uuid}/pieces-jointes/{attachment.uuid}/"


def test_a_participant_downloads_the_file_with_safe_headers(personas) -> None:
    message = send_about_patient(personas)
    response = signed_in(personas.treating_doctor.user).get(_url(message))
    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"liaison.pdf\"; filename*=UTF-8''liaison.pdf"
    )
    assert "sandbox" in response["Content-Security-Policy"]
    assert set(response["Cache-Control"].split(", ")) == {"private", "no-store"}
    entry = AuditEntry.objects.get(action=Action.MESSAGE_READ, actor=personas.treating_doctor.user)
    assert entry.patient == personas.patient
    assert entry.detail["attachment"] == str(message.attachments.get().uuid)


def test_an_outsider_gets_not_found(personas) -> None:
    message = send_about_patient(personas)
    response = signed_in(personas.cardiologist.user).get(_url(message))
    assert response.status_code == 404
    assert response.content != PDF
    assert AuditEntry.objects.filter(
        action=Action.MESSAGE_READ, actor=personas.cardiologist.user, outcome=Outcome.DENIED
    ).exists()


def test_an_attachment_of_another_thread_is_not_found(personas) -> None:
    first = send_about_patient(personas)
    second = send_about_patient(personas)
    attachment = first.attachments.get()
    url = f"/messagerie/{second.thread.uuid}/pieces-jointes/{attachment.uuid}/"
    assert signed_in(personas.treating_doctor.user).get(url).status_code == 404


def test_a_corrupted_file_gets_a_clear_page_not_an_error(personas) -> None:
    message = send_about_patient(personas)
    stored = message.attachments.get().file
    root = Path(django_settings.MAILLAGE_FILES_DIR)
    blob = root / str(stored.uuid)[:2] / f"{stored.uuid}.sealed"
    blob.write_bytes(blob.read_bytes()[:-3] + b"xyz")

    response = signed_in(personas.treating_doctor.user).get(_url(message))

    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/html")
    text = page_text(response)
    assert "Ce fichier ne peut pas être lu" in text or "This file cannot be read" in text
    assert f"/messagerie/{message.thread.uuid}/" in text
    assert AuditEntry.objects.filter(action=Action.FILE_INTEGRITY_FAILED).exists()
