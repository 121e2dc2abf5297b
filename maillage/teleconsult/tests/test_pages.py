"""The pages: the act for its participants only, a guest's link, the invitation, the files."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.policy.teleconsult import Visitor
from maillage.records.models import Document
from maillage.teleconsult import actions
from maillage.teleconsult.models import Invitation, Participant, SharedFile
from maillage.teleconsult.tests.conftest import BIRTH, invite
from maillage.testing.factories import page_text

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def client_for(user) -> Client:
    """A client past both factors (the second one is tested in accounts)."""
    client = Client()
    client.force_login(user)
    if user.needs_second_factor:
        device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def test_it_shows_the_act_to_its_doctor_with_devices_allowed(personas, consultation) -> None:
    response = client_for(personas.treating_doctor.user).get(
        f"/teleconsultation/{consultation.uuid}/"
    )
    assert response.status_code == 200
    assert "camera=(self)" in response.headers["Permissions-Policy"]
    text = page_text(response)
    assert "Micheline" in text and "Inviter un tiers" in text


def test_the_status_under_the_title_can_follow_the_call(personas, consultation) -> None:
    """room.js rewrites the status as the call goes: the page gives it the place and the words."""
    import json
    import re

    response = client_for(personas.patient_user).get(f"/teleconsultation/{consultation.uuid}/")
    html = response.content.decode()
    assert "<span data-act-status>planifiée</span>" in html
    found = re.search(r'<script id="room-text" type="application/json">(.*?)</script>', html)
    assert found is not None
    texts = json.loads(found.group(1))
    assert texts["statusInProgress"] == "en cours" and texts["statusFinished"] == "terminée"


def test_a_stranger_gets_not_found(personas, consultation) -> None:
    response = client_for(personas.cardiologist.user).get(f"/teleconsultation/{consultation.uuid}/")
    assert response.status_code == 404
    response = Client().get(f"/teleconsultation/{consultation.uuid}/")
    assert response.status_code == 404


def test_the_patient_consents_once_and_it_is_recorded(personas, consultation) -> None:
    client = client_for(personas.patient_user)
    assert "J'accepte" in page_text(client.get(f"/teleconsultation/{consultation.uuid}/"))
    response = client.post(f"/teleconsultation/{consultation.uuid}/consentement/")
    assert response.status_code == 302
    consent = consultation.consents.get()
    assert consent.given_by.user == personas.patient_user and consent.wording
    assert "Entrer en salle d'attente" in page_text(
        client.get(f"/teleconsultation/{consultation.uuid}/")
    )


def test_the_doctor_invites_by_email_and_the_guest_opens_her_link(
    personas, consultation, django_capture_on_commit_callbacks
) -> None:
    doctor = client_for(personas.treating_doctor.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = doctor.post(
            f"/teleconsultation/{consultation.uuid}/inviter/",
            {
                "name": "Paul Girard",
                "role": "family",
                "channel": "email",
                "address": "paul@example.org",
            },
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["paul@example.org"]
    link = next(w for w in mail.outbox[0].body.split() if "/teleconsultation/invitation/" in w)
    guest = Client()
    path = (
        link.split("127.0.0.1:8000")[-1]
        if "127.0.0.1:8000" in link
        else link[link.index("/teleconsultation/") :]
    )
    assert guest.get(path).status_code == 200
    response = guest.post(path, {})
    assert response.status_code == 302
    page = guest.get(response["Location"])
    assert page.status_code == 200 and "Paul Girard" in page_text(page)
    # The same link a second time opens nothing.
    again = Client().post(path, {})
    assert again.status_code == 400 and "ne permet plus" in page_text(again)


def test_a_bad_address_comes_back_in_french(personas, consultation) -> None:
    doctor = client_for(personas.treating_doctor.user)
    response = doctor.post(
        f"/teleconsultation/{consultation.uuid}/inviter/",
        {"name": "Paul", "role": "family", "channel": "sms", "address": "abc"},
        follow=True,
    )
    assert "numéro de mobile" in page_text(response)
    assert not Invitation.objects.exists()


def test_a_patient_guest_with_a_wrong_birth_date_gets_a_clear_message(
    personas, consultation
) -> None:
    new = invite(personas, consultation, role="patient", name="Micheline Girard")
    guest = Client()
    response = guest.post(
        f"/teleconsultation/invitation/{new.token}/", {"birth_date": "1950-01-01"}
    )
    assert response.status_code == 400
    assert "date de naissance" in page_text(response)
    response = guest.post(
        f"/teleconsultation/invitation/{new.token}/", {"birth_date": BIRTH.isoformat()}
    )
    assert response.status_code == 302


def test_a_file_shared_enters_the_record_only_when_the_doctor_files_it(
    personas, consultation, private_files
) -> None:
    patient = client_for(personas.patient_user)
    patient.post(f"/teleconsultation/{consultation.uuid}/consentement/")
    place = consultation.participants.get(role="patient")
    Participant.objects.filter(pk=place.pk).update(joined_at=place.invited_at)
    seat, change = actions.seat_for_change(
        Visitor(user=personas.treating_doctor.user),
        consultation.uuid,
        doctor_only=True,
    )
    actions.admit(seat, change, place.uuid)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = patient.post(
        f"/teleconsultation/{consultation.uuid}/fichiers/",
        {"file": SimpleUploadedFile("photo.png", PNG, content_type="image/png")},
    )
    assert response.status_code == 201, response.content
    shared = SharedFile.objects.get()
    assert not Document.objects.filter(patient=personas.patient).exists()
    # The patient cannot file it; the doctor can.
    response = patient.post(
        f"/teleconsultation/{consultation.uuid}/fichiers/{shared.uuid}/classer/", {"type": "photo"}
    )
    assert response.status_code == 404
    doctor = client_for(personas.treating_doctor.user)
    assert (
        doctor.get(f"/teleconsultation/{consultation.uuid}/fichiers/{shared.uuid}/").content == PNG
    )
    response = doctor.post(
        f"/teleconsultation/{consultation.uuid}/fichiers/{shared.uuid}/classer/", {"type": "photo"}
    )
    assert response.status_code == 302
    document = Document.objects.get(patient=personas.patient)
    assert SharedFile.objects.get().document == document
    created = AuditEntry.objects.get(action=Action.DOCUMENT_CREATE, outcome=Outcome.GRANTED)
    assert created.actor == personas.treating_doctor.user
    # A stranger cannot read it.
    stranger = client_for(personas.cardiologist.user)
    assert (
        stranger.get(f"/teleconsultation/{consultation.uuid}/fichiers/{shared.uuid}/").status_code
        == 404
    )


def test_the_doctor_invites_by_sms_and_no_row_keeps_the_token(
    personas, consultation, django_capture_on_commit_callbacks
) -> None:
    from maillage.agenda import sms
    from maillage.agenda.models import OutgoingSms

    doctor = client_for(personas.treating_doctor.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = doctor.post(
            f"/teleconsultation/{consultation.uuid}/inviter/",
            {
                "name": "Ana Lopes",
                "role": "interpreter",
                "channel": "sms",
                "address": "06 11 22 33 44",
            },
        )
    assert response.status_code == 302
    assert [to for to, _body in sms.outbox] == ["+33611223344"]
    assert "/teleconsultation/invitation/" in sms.outbox[0][1]
    assert not OutgoingSms.objects.exists()
