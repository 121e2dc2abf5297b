"""Filing an attachment of a message about a patient into her record, in one click."""

from __future__ import annotations

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.files.models import StoredFile
from maillage.front.tests.test_home import signed_in
from maillage.messaging import actions
from maillage.messaging.tests.conftest import fr, send_about_patient
from maillage.records.models import Document, DocumentType
from maillage.testing.factories import page_text

pytestmark = pytest.mark.django_db


def _url(message) -> str:
    attachment = message.attachments.get()
    return f"/messagerie/{message.thread.uuid}/pieces-jointes/{attachment.uuid}/classer/"


def test_the_doctor_files_the_attachment_with_the_same_stored_file(personas) -> None:
    message = send_about_patient(personas)
    attachment = message.attachments.get()
    files_before = StoredFile.objects.count()
    client = signed_in(personas.treating_doctor.user)

    response = client.post(
        _url(message), {"type": DocumentType.LIAISON_LETTER, "title": "Courrier de l'IDE"}
    )

    assert response.status_code == 302
    assert response["Location"].endswith(f"#attachment-{attachment.uuid}")
    document = Document.objects.get()
    assert document.patient == personas.patient
    assert document.type == DocumentType.LIAISON_LETTER
    assert document.title == "Courrier de l'IDE"
    assert document.author == personas.treating_doctor.user
    assert [df.file_id for df in document.document_files.all()] == [attachment.file_id]
    assert StoredFile.objects.count() == files_before
    attachment.refresh_from_db()
    assert attachment.filed_as == document
    assert AuditEntry.objects.filter(
        patient=personas.patient,
        action=Action.DOCUMENT_CREATE,
        actor=personas.treating_doctor.user,
        outcome=Outcome.GRANTED,
    ).exists()
    text = page_text(client.get(response["Location"]))
    assert fr("File filed in the patient's record.") in text
    assert fr("filed in the record") in text


def test_the_thread_page_offers_only_the_writable_types(personas) -> None:
    message = send_about_patient(personas)
    doctor_page = page_text(
        signed_in(personas.treating_doctor.user).get(f"/messagerie/{message.thread.uuid}/")
    )
    assert fr("File into the record") in doctor_page
    assert 'value="teleconsultation_report"' in doctor_page
    # The nurse follows the patient but is not in the care team: no filing for her.
    nurse_page = page_text(
        signed_in(personas.nurse.user).get(f"/messagerie/{message.thread.uuid}/")
    )
    assert fr("File into the record") not in nurse_page


def test_it_is_refused_to_a_participant_who_may_not_write_the_record(personas) -> None:
    message = send_about_patient(personas)
    response = signed_in(personas.nurse.user).post(
        _url(message), {"type": DocumentType.LIAISON_LETTER, "title": "x"}
    )
    assert response.status_code == 302
    assert not Document.objects.exists()


def test_the_action_refuses_and_the_record_logs_it(personas) -> None:
    message = send_about_patient(personas)
    with pytest.raises(actions.MessagingRuleBroken):
        actions.file_attachment(
            personas.nurse.user, message.attachments.get(), DocumentType.LIAISON_LETTER, "x"
        )
    assert not Document.objects.exists()
    assert AuditEntry.objects.filter(
        action=Action.DOCUMENT_CREATE, actor=personas.nurse.user, outcome=Outcome.DENIED
    ).exists()


def test_a_type_the_role_may_not_write_is_refused(personas) -> None:
    from maillage.records.models import CareTeamMember, CareTeamReason

    CareTeamMember.objects.create(
        patient=personas.patient,
        professional=personas.nurse,
        reason=CareTeamReason.NAMED_BY_PATIENT,
    )
    message = send_about_patient(personas)
    with pytest.raises(actions.MessagingRuleBroken) as refused:
        actions.file_attachment(
            personas.nurse.user, message.attachments.get(), DocumentType.PRESCRIPTION, "Ordo"
        )
    assert refused.value.message == fr("Your role may not add this type of document to the record.")
    assert not Document.objects.exists()


def test_an_outsider_gets_not_found(personas) -> None:
    message = send_about_patient(personas)
    response = signed_in(personas.cardiologist.user).post(
        _url(message), {"type": DocumentType.LIAISON_LETTER, "title": "x"}
    )
    assert response.status_code == 404
    assert not Document.objects.exists()


def test_it_is_filed_once(personas) -> None:
    message = send_about_patient(personas)
    doctor = personas.treating_doctor.user
    attachment = message.attachments.get()
    actions.file_attachment(doctor, attachment, DocumentType.LIAISON_LETTER, "Courrier")
    with pytest.raises(actions.MessagingRuleBroken):
        actions.file_attachment(doctor, attachment, DocumentType.LIAISON_LETTER, "Encore")
    assert Document.objects.count() == 1


def test_a_message_about_nobody_cannot_be_filed(personas) -> None:
    message = actions.send_message(
        personas.nurse.user,
        actions.Draft(
            subject="Protocole",
            body="Voir pièce",
            professionals=[personas.treating_doctor],
            uploads=[actions.Upload("protocole.pdf", b"%PDF-1.4\n%%EOF")],
        ),
    )
    with pytest.raises(actions.MessagingRuleBroken):
        actions.file_attachment(
            personas.treating_doctor.user,
            message.attachments.get(),
            DocumentType.OTHER,
            "Protocole",
        )
    assert not Document.objects.exists()
