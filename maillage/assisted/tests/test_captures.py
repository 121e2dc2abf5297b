"""Stills and files sent from the room become Media of the act; live pushes decided per receiver.

Through the page's POST (``views.send_media``) as the browser sends them,
then the file's audited URL; the pushes (``room.pushes``) as an attacker
would try them: a relative, the patient, a participant whose seat ended.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from maillage.assisted import room
from maillage.assisted.tests.conftest import AssistedAct
from maillage.assisted.tests.test_assisted import cuff, nurse_seat, to
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.files import storage
from maillage.measurements.models import Media, MediaKind, Method, Observation
from maillage.policy import measurements as readings_policy
from maillage.policy import teleconsult as policy
from maillage.teleconsult.models import Participant, ParticipantRole
from maillage.teleconsult.tests.conftest import invite
from maillage.teleconsult.tests.test_pages import client_for

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nECG 12 derivations\n%%EOF"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
AECG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<AnnotatedECG xmlns="urn:hl7-org:v3"><id root="1.2.3"/><code code="93000"/>'
    b"<component><series><value>-0.12 0.08 0.95</value></series></component></AnnotatedECG>"
)
HTML = b"<html><body><script>alert(1)</script></body></html>"


def post(user, act: AssistedAct, name: str, data: bytes, **fields: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(user)
    upload = SimpleUploadedFile(name, data)
    return client.post(
        f"/teleconsultation/{act.consultation.uuid}/captures/", {"file": upload, **fields}
    )


def test_it_files_an_ecg_pdf_as_media_of_the_act_and_serves_it_audited(personas, act) -> None:
    response = post(personas.nurse.user, act, "ecg.pdf", PDF, what="ecg")
    assert response.status_code == 201, response.content
    medium = Media.objects.get()
    assert (medium.kind, medium.method) == (MediaKind.ECG, Method.IMPORT)
    assert medium.encounter == act.consultation and medium.patient == personas.patient
    assert medium.performer == personas.nurse.user and medium.title.startswith("ECG ")
    assert storage.read(medium.file) == PDF
    write = AuditEntry.objects.get(action=Action.OBSERVATION_WRITE, detail__media=str(medium.uuid))
    assert write.outcome == Outcome.GRANTED
    assert response.json()["media"]["url"] == f"/mesures/media/{medium.uuid}/fichier"

    doctor = client_for(personas.treating_doctor.user)
    served = doctor.get(response.json()["media"]["url"])
    assert served.status_code == 200 and served.content == PDF
    assert served["Content-Security-Policy"].endswith("sandbox")
    read = AuditEntry.objects.filter(action=Action.OBSERVATION_READ, detail__media=str(medium.uuid))
    assert read.filter(actor=personas.treating_doctor.user, outcome=Outcome.GRANTED).exists()
    # A specialist with no link to the patient: not found, and the refusal is written.
    stranger = client_for(personas.cardiologist.user)
    assert stranger.get(response.json()["media"]["url"]).status_code == 404
    assert read.filter(actor=personas.cardiologist.user, outcome=Outcome.DENIED).exists()


def test_an_aecg_a_sound_and_a_dermatoscope_photo_are_taken_by_content(personas, act) -> None:
    assert post(personas.nurse.user, act, "trace.xml", AECG, what="ecg").status_code == 201
    assert post(personas.nurse.user, act, "peau.png", PNG, what="dermatoscope").status_code == 201
    kinds = sorted(Media.objects.values_list("kind", flat=True))
    assert kinds == [MediaKind.ECG, MediaKind.PHOTO]


def test_the_doctor_captures_a_still_of_the_video(personas, act) -> None:
    response = post(personas.treating_doctor.user, act, "capture.jpg", JPEG, captured="1")
    assert response.status_code == 201, response.content
    medium = Media.objects.get()
    assert (medium.kind, medium.method) == (MediaKind.PHOTO, Method.CAPTURE)
    assert medium.performer == personas.treating_doctor.user
    assert medium.title.startswith("Capture vidéo")


@pytest.mark.parametrize(
    ("name", "data", "what", "said"),
    [
        ("photo.png", PNG, "ecg", "Un ECG s’envoie en PDF ou en fichier XML HL7 aECG"),
        ("ecg.pdf", PDF, "sound", "Un son de stéthoscope s’envoie en fichier WAV ou MP3"),
        ("page.html", HTML, "photo", "ne peut pas être conservé"),
        ("ecg.jpg", PDF, "ecg", "ne correspond pas"),  # the name lies about the content
        ("ecg.pdf", PDF, "video", "Indiquez la nature du fichier"),
    ],
)
def test_a_file_that_is_not_what_it_says_is_refused_in_french(
    personas, act, name, data, what, said
) -> None:
    response = post(personas.nurse.user, act, name, data, what=what)
    assert response.status_code == 400
    assert said in response.json()["message"], response.json()
    assert not Media.objects.exists()


def test_a_file_too_large_is_refused(personas, act) -> None:
    big = PDF + b"0" * (10 * 1024 * 1024)
    response = post(personas.nurse.user, act, "ecg.pdf", big, what="ecg")
    assert response.status_code == 400 and "10 Mo" in response.json()["message"]
    assert not Media.objects.exists()


def test_the_patient_and_a_stranger_may_not_send_files_in_the_act(personas, act) -> None:
    for user in (personas.patient_user, personas.cardiologist.user):
        response = post(user, act, "ecg.pdf", PDF, what="ecg")
        assert response.status_code == 404
    assert not Media.objects.exists()
    denied = AuditEntry.objects.filter(action=Action.OBSERVATION_WRITE, outcome=Outcome.DENIED)
    assert denied.filter(actor=personas.patient_user).exists()
    assert denied.filter(actor=personas.cardiologist.user).exists()


def test_the_doctor_marks_a_medium_significant_and_the_nurse_may_not(personas, act) -> None:
    post(personas.nurse.user, act, "oreille.jpg", JPEG, what="otoscope")
    medium = Media.objects.get()
    doctor = policy.take_seat(act.doctor, act.consultation.uuid)
    marked = to(room.mark_media(doctor, str(medium.uuid), True), doctor.participant)
    assert marked == {"media": str(medium.uuid), "significant": True}
    medium.refresh_from_db()
    assert medium.significant and medium.version == 2
    with pytest.raises(room.RoomRuleBroken):
        room.mark_media(nurse_seat(act), str(medium.uuid), False)


# --- Each live push decided per receiver -------------------------------------------------


def test_a_reading_goes_to_the_doctor_and_the_nurse_only(personas, act) -> None:
    family = invite(personas, act.consultation)
    assert family is not None
    guest = act.consultation.participants.get(role=ParticipantRole.FAMILY)
    guest.admitted_at = guest.joined_at = timezone.now()
    guest.save(update_fields=["admitted_at", "joined_at"])
    pushes = dict(room.send_reading(nurse_seat(act), cuff()))
    doctor = act.consultation.participants.get(role=ParticipantRole.DOCTOR)
    assert set(pushes) == {str(doctor.uuid), str(act.nurse.uuid)}
    assert [r["text"] for r in pushes[str(doctor.uuid)]["readings"]] == ["120/80 mmHg", "72 /min"]
    # Each refusal written with its rule; the guest's with no actor and her seat named.
    refused = AuditEntry.objects.filter(action=Action.OBSERVATION_READ, outcome=Outcome.DENIED)
    guest_entry = refused.get(actor=None, detail__guest=str(guest.uuid))
    assert guest_entry.detail["rule"] == readings_policy.NOT_LIVE
    patient_entry = refused.get(actor=personas.patient_user, detail__live=True)
    assert patient_entry.detail["rule"] == readings_policy.NOT_LIVE
    # The doctor's grant: one read per reading, naming it, as a read of it would leave.
    granted = AuditEntry.objects.filter(
        action=Action.OBSERVATION_READ,
        outcome=Outcome.GRANTED,
        actor=personas.treating_doctor.user,
        detail__live=True,
    )
    assert granted.count() == 2


def test_an_assistant_whose_seat_ended_gets_nothing(personas, act) -> None:
    sent = room.send_reading(nurse_seat(act), cuff())
    reading = to(sent, act.nurse)["readings"][0]["observation"]
    Participant.objects.filter(pk=act.nurse.pk).update(left_at=timezone.now())
    doctor = policy.take_seat(act.doctor, act.consultation.uuid)
    pushes = dict(room.mark(doctor, reading, True))
    assert str(act.nurse.uuid) not in pushes and str(doctor.participant.uuid) in pushes
    entry = AuditEntry.objects.filter(
        actor=personas.nurse.user, action=Action.OBSERVATION_READ, outcome=Outcome.DENIED
    ).latest("pk")
    assert entry.detail["rule"] == readings_policy.NOT_IN_ROOM


def test_a_closed_act_pushes_to_nobody(personas, act) -> None:
    sent = room.send_reading(nurse_seat(act), cuff())
    reading = to(sent, act.nurse)["readings"][0]["observation"]
    act.consultation.status = "finished"
    act.consultation.save(update_fields=["status"])
    assert (
        readings_policy.live_receivers(
            act.consultation.uuid, [Observation.objects.get(uuid=reading)]
        )
        == []
    )


def test_a_doctor_the_patient_opposed_gets_no_reading(personas, act) -> None:
    """Decided when sent, not when the socket opened: an opposition made during the call."""
    from maillage.records.actions import oppose_professional

    oppose_professional(personas.patient_user, personas.patient, personas.treating_doctor)
    pushes = dict(room.send_reading(nurse_seat(act), cuff()))
    doctor = act.consultation.participants.get(role=ParticipantRole.DOCTOR)
    assert str(doctor.uuid) not in pushes
