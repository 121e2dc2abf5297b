"""A real SMTP round trip in: smtplib to our handler in an aiosmtpd Controller."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from django.core import mail

from maillage.files import storage
from maillage.messaging import gateway
from maillage.messaging.models import Attachment, Message, Participant, Thread
from maillage.messaging.tests.conftest import (
    EXECUTABLE,
    PDF,
    self_signed_certificate,
)
from maillage.testing.ports import free_port

pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = "claire.morel@medecin.mssante.fr"
OUTSIDE = "Dr Anne Petit <anne.petit@ch-vierzon.mssante.fr>"


@pytest.fixture
def listener(tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    port = free_port()
    controller = Controller(
        gateway.InboundHandler(),
        hostname="127.0.0.1",
        port=port,
        tls_context=gateway.server_tls_context(str(cert), str(key)),
        require_starttls=True,
    )
    controller.start()
    client_context = ssl.create_default_context(cafile=str(cert))
    yield port, client_context
    controller.stop()


@pytest.fixture
def doctor_address(personas):
    doctor = personas.treating_doctor
    doctor.secure_messaging_address = ADDRESS
    doctor.save()
    doctor.user.email = "claire.morel@example.org"
    doctor.user.save()
    return doctor


def _mail(to: str, *, attachments=(("compte-rendu.pdf", PDF),), **headers) -> EmailMessage:
    message = EmailMessage()
    message["From"] = OUTSIDE
    message["To"] = to
    message["Subject"] = "Compte rendu d'hospitalisation"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Votre patiente est sortie ce jour.\n")
    for name, data in attachments:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message


def _send(listener, message: EmailMessage, to: list[str]) -> None:
    port, context = listener
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.starttls(context=context)
        client.send_message(message, from_addr="bounces@ch-vierzon.mssante.fr", to_addrs=to)


def test_a_mail_to_a_known_address_lands_in_the_inbox_sealed(
    personas, doctor_address, listener
) -> None:
    _send(listener, _mail(ADDRESS.upper()), [ADDRESS.upper()])

    message = Message.objects.get()
    assert message.inbound and message.sender is None
    assert message.sender_label == "Dr Anne Petit"
    assert message.sender_address == "anne.petit@ch-vierzon.mssante.fr"
    assert message.thread.subject == "Compte rendu d'hospitalisation"
    assert message.body == "Votre patiente est sortie ce jour."
    assert message.thread.patient is None
    delivery = message.deliveries.get()
    assert delivery.user == doctor_address.user and delivery.read_at is None
    assert set(Participant.objects.values_list("address", flat=True)) == {
        "anne.petit@ch-vierzon.mssante.fr",
        "",
    }
    attachment = Attachment.objects.select_related("file").get()
    assert attachment.file.original_name == "compte-rendu.pdf"
    assert attachment.file.mime == "application/pdf"
    assert storage.read(attachment.file) == PDF
    # Sealed on disk: the plaintext is not there.
    blob = storage._path(str(attachment.file.uuid)).read_bytes()
    assert PDF not in blob and b"Compte rendu" not in blob
    # The doctor is told, without health data.
    assert [m.to for m in mail.outbox] == [["claire.morel@example.org"]]
    assert "sortie" not in mail.outbox[0].body and "Compte rendu" not in mail.outbox[0].subject


def test_a_mail_to_an_unknown_address_is_refused(personas, doctor_address, listener) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        _send(listener, _mail("inconnu@medecin.mssante.fr"), ["inconnu@medecin.mssante.fr"])
    code, text = refused.value.recipients["inconnu@medecin.mssante.fr"]
    assert code == 550 and text.startswith(b"5.1.1")
    assert not Message.objects.exists()


def test_an_address_without_an_active_account_is_refused(personas, listener) -> None:
    personas.cardiologist.secure_messaging_address = "hugo.lefevre@ch-bourges.mssante.fr"
    personas.cardiologist.save()
    personas.cardiologist.user.is_active = False
    personas.cardiologist.user.save()
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        _send(
            listener,
            _mail("hugo.lefevre@ch-bourges.mssante.fr"),
            ["hugo.lefevre@ch-bourges.mssante.fr"],
        )
    assert not Message.objects.exists()


def test_a_known_and_an_unknown_recipient_deliver_to_the_known_one(
    personas, doctor_address, listener
) -> None:
    port, context = listener
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.starttls(context=context)
        refused = client.send_message(
            _mail(ADDRESS), from_addr="b@x.mssante.fr", to_addrs=[ADDRESS, "x@y.mssante.fr"]
        )
    assert refused == {
        "x@y.mssante.fr": (550, b"5.1.1 Unknown recipient: no such mailbox in Maillage")
    }
    assert Message.objects.get().deliveries.get().user == doctor_address.user


def test_a_refused_attachment_is_named_and_the_rest_delivered(
    personas, doctor_address, listener
) -> None:
    _send(
        listener,
        _mail(ADDRESS, attachments=[("cr.pdf", PDF), ("setup.exe", EXECUTABLE)]),
        [ADDRESS],
    )
    message = Message.objects.get()
    assert [a.file.original_name for a in message.attachments.all()] == ["cr.pdf"]
    refused = message.refused_attachments.get()
    assert refused.name == "setup.exe"
    assert "Ce fichier est un programme ou une archive" in refused.reason


def test_starttls_is_required(personas, doctor_address, listener) -> None:
    port, _context = listener
    with (
        smtplib.SMTP("127.0.0.1", port, timeout=10) as client,
        pytest.raises(smtplib.SMTPSenderRefused) as refused,
    ):
        client.send_message(_mail(ADDRESS), from_addr="b@x.fr", to_addrs=[ADDRESS])
    assert refused.value.smtp_code == 530
    assert not Message.objects.exists()


def test_a_reply_to_our_message_joins_its_thread(personas, doctor_address, listener) -> None:
    from maillage.messaging import actions

    first = actions.send_message(
        doctor_address.user,
        actions.Draft(
            subject="Avis", body="Bonjour", addresses=["anne.petit@ch-vierzon.mssante.fr"]
        ),
    )
    _send(
        listener,
        _mail(ADDRESS, attachments=(), In_Reply_To=first.message_id, References=first.message_id),
        [ADDRESS],
    )
    assert Thread.objects.count() == 1
    answer = Message.objects.get(inbound=True)
    assert answer.thread == first.thread
    assert answer.deliveries.get().user == doctor_address.user


def test_a_reply_from_someone_else_starts_a_new_thread(personas, doctor_address, listener) -> None:
    from maillage.messaging import actions

    first = actions.send_message(
        doctor_address.user,
        actions.Draft(subject="Avis", body="Bonjour", addresses=["autre@ch-vierzon.mssante.fr"]),
    )
    _send(listener, _mail(ADDRESS, attachments=(), In_Reply_To=first.message_id), [ADDRESS])
    assert Thread.objects.count() == 2


def test_the_data_size_limit_follows_the_upload_limit(settings) -> None:
    settings.MAILLAGE_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    assert gateway.data_size_limit() == 14 * 1024 * 1024
    controller = gateway.listener("127.0.0.1", free_port())
    assert controller.SMTP_kwargs["data_size_limit"] == 14 * 1024 * 1024


def test_a_bounce_without_sender_is_delivered_with_nobody_to_answer(
    personas, doctor_address, listener
) -> None:
    bounce = EmailMessage()
    bounce["To"] = ADDRESS
    bounce["Subject"] = "Undelivered Mail Returned to Sender"
    bounce.set_content("<p>Delivery failed</p>", subtype="html")
    port, context = listener
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.starttls(context=context)
        client.sendmail("<>", [ADDRESS], bounce.as_bytes())
    message = Message.objects.get()
    assert message.body == "Delivery failed"
    assert message.sender_address == ""
    assert list(message.thread.participants.values_list("user", flat=True)) == [
        doctor_address.user.pk
    ]
