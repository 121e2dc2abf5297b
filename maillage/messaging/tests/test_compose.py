"""The compose page: recipients from the directory, a patient, files, refusals in French."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.files.models import StoredFile
from maillage.front.tests.test_home import signed_in
from maillage.messaging.models import Message, Thread
from maillage.messaging.queries import suggestion_label
from maillage.messaging.tests.conftest import EXECUTABLE, PDF, fr
from maillage.records import actions as record_actions
from maillage.records.models import CareTeamMember, CareTeamReason, DocumentType
from maillage.testing import factories as f
from maillage.testing.factories import page_text

pytestmark = pytest.mark.django_db


def _pdf(name: str = "liaison.pdf", data: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def test_it_opens_with_the_patient_of_the_link(personas) -> None:
    url = f"/messagerie/nouveau/?patient={personas.patient.uuid}"
    response = signed_in(personas.nurse.user).get(url)
    assert response.status_code == 200
    text = page_text(response)
    assert personas.patient.display_name in text
    assert f'value="{personas.patient.uuid}"' in text
    assert AuditEntry.objects.filter(
        patient=personas.patient, action=Action.PATIENT_READ, actor=personas.nurse.user
    ).exists()
    # Not in the care team: no record opened, no documents offered, no refusal logged.
    assert 'name="documents"' not in text
    assert not AuditEntry.objects.filter(action=Action.RECORD_READ).exists()


def test_it_offers_the_record_documents_the_sender_can_see(personas) -> None:
    CareTeamMember.objects.create(
        patient=personas.patient,
        professional=personas.nurse,
        reason=CareTeamReason.NAMED_BY_PATIENT,
    )
    document = record_actions.file_document(
        personas.treating_doctor.user,
        personas.patient,
        record_actions.NewDocument(
            DocumentType.LAB_RESULTS, "Bilan de novembre", dt.date(2026, 11, 2)
        ),
        uploads=[record_actions.Upload("bilan.pdf", PDF)],
    )
    text = page_text(
        signed_in(personas.nurse.user).get(f"/messagerie/nouveau/?patient={personas.patient.uuid}")
    )
    assert f'value="{document.uuid}"' in text and "Bilan de novembre" in text
    assert AuditEntry.objects.filter(
        action=Action.RECORD_READ, actor=personas.nurse.user, outcome=Outcome.GRANTED
    ).exists()


def test_a_patient_the_sender_may_not_see_is_not_found(personas) -> None:
    url = f"/messagerie/nouveau/?patient={personas.patient.uuid}"
    assert signed_in(personas.cardiologist.user).get(url).status_code == 404
    assert AuditEntry.objects.filter(
        patient=personas.patient, action=Action.PATIENT_READ, outcome=Outcome.DENIED
    ).exists()


def test_it_sends_to_a_suggestion_and_an_rpps_number(personas) -> None:
    recipients = f"{suggestion_label(personas.treating_doctor)}; {personas.cardiologist.rpps}"
    response = signed_in(personas.nurse.user).post(
        "/messagerie/nouveau/",
        {
            "recipients": recipients,
            "subject": "Pansement",
            "body": "Plaie à revoir",
            "patient": str(personas.patient.uuid),
            "attachments": [_pdf()],
        },
    )
    thread = Thread.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/messagerie/{thread.uuid}/"
    assert thread.patient == personas.patient
    message = thread.messages.get()
    assert {d.user for d in message.deliveries.all()} == {
        personas.treating_doctor.user,
        personas.cardiologist.user,
    }
    assert message.attachments.get().file.original_name == "liaison.pdf"


def test_it_refuses_an_executable_next_to_the_field_and_keeps_what_was_typed(personas) -> None:
    response = signed_in(personas.nurse.user).post(
        "/messagerie/nouveau/",
        {
            "recipients": personas.treating_doctor.rpps,
            "subject": "Programme",
            "body": "Voir pièce",
            "patient": str(personas.patient.uuid),
            "attachments": [_pdf(), _pdf("outil.exe", EXECUTABLE)],
        },
    )
    assert response.status_code == 400
    text = page_text(response)
    assert 'id="id_attachments_error"' in text
    assert "outil.exe" in text
    assert "Ce fichier est un programme ou une archive" in text
    assert 'value="Programme"' in text
    assert not Message.objects.exists()
    assert not StoredFile.objects.exists()


def test_it_names_an_unknown_recipient(personas) -> None:
    response = signed_in(personas.nurse.user).post(
        "/messagerie/nouveau/",
        {"recipients": "Docteur Inconnu", "subject": "x", "body": "y"},
    )
    assert response.status_code == 400
    text = page_text(response)
    assert 'id="id_recipients_error"' in text and "“Docteur Inconnu”" in text
    assert not Message.objects.exists()


def test_it_asks_for_a_recipient(personas) -> None:
    response = signed_in(personas.nurse.user).post(
        "/messagerie/nouveau/", {"subject": "x", "body": "y"}
    )
    assert response.status_code == 400
    assert fr("Choose at least one recipient.") in page_text(response)


def test_outside_addresses_go_out(personas) -> None:
    response = signed_in(personas.treating_doctor.user).post(
        "/messagerie/nouveau/",
        {
            "outside": "secretariat@ch-vierzon.mssante.fr, labo@bio18.mssante.fr",
            "subject": "Résultats",
            "body": "Merci",
        },
    )
    assert response.status_code == 302
    message = Message.objects.get()
    assert sorted(d.address for d in message.deliveries.all()) == [
        "labo@bio18.mssante.fr",
        "secretariat@ch-vierzon.mssante.fr",
    ]


def test_the_directory_link_fills_the_recipient_in(personas) -> None:
    text = page_text(
        signed_in(personas.nurse.user).get(
            f"/messagerie/nouveau/?rpps={personas.treating_doctor.rpps}"
        )
    )
    assert f'value="{suggestion_label(personas.treating_doctor)}"' in text


def test_it_suggests_professionals_of_the_directory(personas) -> None:
    f.professional(None, last_name="Morelle", secure_messaging_address="m@x.mssante.fr")
    f.professional(None, last_name="Moreau")  # neither account nor address: unreachable
    client = signed_in(personas.nurse.user)

    response = client.get("/messagerie/destinataires/suggestions/", {"recipients": "more"})

    assert response.status_code == 200
    text = page_text(response)
    assert text.count("<option") == 2
    assert suggestion_label(personas.treating_doctor) in text
    assert "Morelle" in text and "Moreau" not in text

    kept = client.get(
        "/messagerie/destinataires/suggestions/",
        {"recipients": f"{personas.cardiologist.rpps}; mor"},
    )
    assert (
        f'value="{personas.cardiologist.rpps}; {suggestion_label(personas.treating_doctor)}"'
        in (page_text(kept))
    )
    too_short = client.get("/messagerie/destinataires/suggestions/", {"recipients": "m"})
    assert b"<option" not in too_short.content
