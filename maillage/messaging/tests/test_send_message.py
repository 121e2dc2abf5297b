"""actions.send_message: recipients, the patient gate, attachments, audit, notices."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.files.models import StoredFile
from maillage.messaging import actions
from maillage.messaging.models import Attachment, Delivery, DeliveryStatus, Message, Thread
from maillage.messaging.tests.conftest import EXECUTABLE, PDF, fr, send_about_patient
from maillage.policy.gate import PatientNotFound
from maillage.records import actions as record_actions
from maillage.records.models import CareTeamMember, CareTeamReason, DocumentType
from maillage.testing import factories as f

pytestmark = pytest.mark.django_db


def test_it_delivers_inside_and_audits_the_send_on_the_patient(personas) -> None:
    message = send_about_patient(personas)

    thread = message.thread
    assert thread.patient == personas.patient
    assert set(thread.participants.values_list("user", flat=True)) == {
        personas.nurse.user.pk,
        personas.treating_doctor.user.pk,
    }
    delivery = message.deliveries.get()
    assert delivery.user == personas.treating_doctor.user
    assert delivery.status == DeliveryStatus.INTERNAL and delivery.read_at is None
    attachment = message.attachments.select_related("file").get()
    assert attachment.file.original_name == "liaison.pdf"
    assert attachment.file.mime == "application/pdf"
    # The send went through the policy, and is on her trail once, as done.
    send = AuditEntry.objects.get(patient=personas.patient, action=Action.MESSAGE_SEND)
    assert send.actor == personas.nurse.user
    assert send.outcome == Outcome.GRANTED
    assert send.basis == "care_structure"
    # Each receiver is decided and named on her trail.
    received = AuditEntry.objects.get(patient=personas.patient, action=Action.MESSAGE_RECEIVE)
    assert received.detail["receiver"] == f"user:{personas.treating_doctor.user.pk}"
    assert received.outcome == Outcome.GRANTED
    assert send.detail["thread"] == str(thread.uuid)
    assert "Pansement" not in str(send.detail)


def test_it_refuses_a_patient_the_sender_may_not_read_and_writes_nothing(personas) -> None:
    with pytest.raises(PatientNotFound):
        actions.send_message(
            personas.cardiologist.user,
            actions.Draft(
                subject="Avis",
                body="Bonjour",
                professionals=[personas.treating_doctor],
                patient_uuid=personas.patient.uuid,
            ),
        )
    assert not Thread.objects.exists()
    assert AuditEntry.objects.filter(
        patient=personas.patient, action=Action.MESSAGE_SEND, outcome=Outcome.DENIED
    ).exists()


def test_it_refuses_an_executable_before_anything_is_stored(personas) -> None:
    with pytest.raises(actions.MessagingRuleBroken) as refused:
        send_about_patient(
            personas,
            uploads=[actions.Upload("ok.pdf", PDF), actions.Upload("programme.exe", EXECUTABLE)],
        )
    assert refused.value.field == "attachments"
    assert refused.value.message.startswith("programme.exe")
    assert "Ce fichier est un programme ou une archive" in refused.value.message
    assert not Thread.objects.exists()
    assert not StoredFile.objects.exists()
    # Refused before the gate: the patient's trail holds nothing about it.
    assert not AuditEntry.objects.filter(patient=personas.patient).exists()


def test_it_reuses_the_record_file_without_a_copy(personas) -> None:
    CareTeamMember.objects.create(
        patient=personas.patient,
        professional=personas.nurse,
        reason=CareTeamReason.NAMED_BY_PATIENT,
    )
    document = record_actions.file_document(
        personas.treating_doctor.user,
        personas.patient,
        record_actions.NewDocument(DocumentType.LAB_RESULTS, "Bilan", dt.date(2026, 11, 2)),
        uploads=[record_actions.Upload("bilan.pdf", PDF)],
    )
    stored = document.document_files.get().file
    files_before = StoredFile.objects.count()

    message = actions.send_message(
        personas.nurse.user,
        actions.Draft(
            subject="Bilan",
            body="Le bilan ci-joint.",
            professionals=[personas.cardiologist],
            patient_uuid=personas.patient.uuid,
            documents=[document.uuid],
        ),
    )

    attachment = message.attachments.get()
    assert attachment.file_id == stored.pk
    assert attachment.source_document == document
    assert StoredFile.objects.count() == files_before
    assert AuditEntry.objects.filter(
        patient=personas.patient,
        action=Action.DOCUMENT_READ,
        actor=personas.nurse.user,
        outcome=Outcome.GRANTED,
        detail__document=str(document.uuid),
    ).exists()


def test_it_refuses_a_record_document_the_sender_cannot_see(personas) -> None:
    # The nurse follows the patient through the MSP but is not in the care team.
    document = record_actions.file_document(
        personas.treating_doctor.user,
        personas.patient,
        record_actions.NewDocument(DocumentType.LAB_RESULTS, "Bilan", dt.date(2026, 11, 2)),
        uploads=[record_actions.Upload("bilan.pdf", PDF)],
    )
    with pytest.raises(actions.MessagingRuleBroken) as refused:
        actions.send_message(
            personas.nurse.user,
            actions.Draft(
                subject="Bilan",
                body="Le bilan",
                professionals=[personas.treating_doctor],
                patient_uuid=personas.patient.uuid,
                documents=[document.uuid],
            ),
        )
    assert refused.value.field == "documents"
    assert not Thread.objects.exists()
    assert AuditEntry.objects.filter(
        action=Action.DOCUMENT_READ, actor=personas.nurse.user, outcome=Outcome.DENIED
    ).exists()


def test_it_delivers_a_typed_mssante_address_of_a_colleague_inside(personas) -> None:
    personas.cardiologist.secure_messaging_address = "hugo.lefevre@ch-bourges.mssante.fr"
    personas.cardiologist.save()
    message = actions.send_message(
        personas.treating_doctor.user,
        actions.Draft(
            subject="Avis", body="Bonjour", addresses=["Hugo.Lefevre@CH-Bourges.mssante.fr"]
        ),
    )
    delivery = message.deliveries.get()
    assert delivery.user == personas.cardiologist.user
    assert delivery.status == DeliveryStatus.INTERNAL
    assert message.message_id == ""  # nothing goes out


def test_it_sends_a_professional_without_account_through_the_gateway(personas) -> None:
    outside = f.professional(
        None, last_name="Petit", secure_messaging_address="anne.petit@medecin.mssante.fr"
    )
    message = actions.send_message(
        personas.treating_doctor.user,
        actions.Draft(subject="Avis", body="Bonjour", professionals=[outside]),
    )
    delivery = message.deliveries.get()
    assert delivery.user is None
    assert delivery.address == "anne.petit@medecin.mssante.fr"
    assert delivery.status == DeliveryStatus.PENDING  # sent after commit
    assert message.message_id.startswith("<")


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        ({"professionals": "none"}, "recipients"),
        ({"addresses": ["pas une adresse"]}, "outside"),
        ({"professionals": "self"}, "recipients"),
        ({"body": "   "}, "body"),
        ({"subject": " "}, "subject"),
    ],
)
def test_it_explains_what_is_wrong_with_a_draft(personas, draft, field) -> None:
    nobody = f.professional(None, last_name="Sansmail")
    who = {"none": [nobody], "self": [personas.treating_doctor]}
    values: dict[str, Any] = {
        "subject": "Avis",
        "body": "Bonjour",
        "professionals": [personas.cardiologist],
    }
    values.update(draft)
    if isinstance(values["professionals"], str):
        values["professionals"] = who[values["professionals"]]
    with pytest.raises(actions.MessagingRuleBroken) as refused:
        actions.send_message(personas.treating_doctor.user, actions.Draft(**values))
    assert refused.value.field == field
    assert not Message.objects.exists()


@pytest.mark.parametrize("who", ["patient_user", "analyst"])
def test_patients_and_analysts_have_no_messaging(personas, who) -> None:
    with pytest.raises(actions.MessagingRuleBroken):
        actions.send_message(
            personas.user(who),
            actions.Draft(subject="x", body="y", professionals=[personas.treating_doctor]),
        )


def test_the_notice_carries_no_health_data(personas, django_capture_on_commit_callbacks) -> None:
    doctor = personas.treating_doctor.user
    doctor.email = "claire.morel@example.org"
    doctor.save()
    with django_capture_on_commit_callbacks(execute=True):
        message = send_about_patient(personas)

    assert len(mail.outbox) == 1
    notice = mail.outbox[0]
    assert notice.to == ["claire.morel@example.org"]
    assert notice.subject == fr("New secure message in Maillage")
    assert fr("New secure message in Maillage") in {
        "Nouveau message sécurisé dans Maillage",
        "New secure message in Maillage",
    }
    text = notice.subject + notice.body
    for secret in ("Pansement", "Girard", "GIRARD", "Micheline", "talon", "liaison.pdf"):
        assert secret not in text
    assert f"/messagerie/{message.thread.uuid}/" in notice.body
    assert not notice.attachments


def test_a_recipient_without_email_gets_no_notice(
    personas, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        send_about_patient(personas)
    assert mail.outbox == []
    assert Delivery.objects.count() == 1
    assert Attachment.objects.count() == 1
