"""A real SMTP round trip out: our relay backend, STARTTLS, an aiosmtpd relay started here."""

from __future__ import annotations

import email
import email.policy
import ssl
import threading

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from maillage.messaging import actions, gateway
from maillage.messaging.models import DeliveryStatus, Message
from maillage.messaging.tests.conftest import PDF, self_signed_certificate
from maillage.tasks import schedule
from maillage.tasks.models import OutgoingMail, WorkStatus
from maillage.tasks.tasks import send_outgoing
from maillage.testing import factories as f
from maillage.testing.factories import page_text
from maillage.testing.ports import free_port

OUTSIDE = "anne.petit@medecin.mssante.fr"


class Relay:
    """What a relay keeps of each mail: envelope, content and whether TLS was on."""

    def __init__(self) -> None:
        self.received: list[dict[str, object]] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received.append(
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "content": envelope.original_content,
                "tls": session.ssl is not None,
            }
        )
        self.arrived.set()
        return "250 2.0.0 Queued"


@pytest.fixture
def relay(tmp_path, settings):
    cert, key = self_signed_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Relay()
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
    )
    controller.start()
    settings.EMAIL_BACKEND = "maillage.messaging.gateway.RelayEmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.MAILLAGE_SMTP_CA_FILE = str(cert)
    yield handler
    controller.stop()


def _send(personas, **kw) -> Message:
    outside = f.professional(
        None, last_name="Petit", first_name="Anne", secure_messaging_address=OUTSIDE
    )
    personas.treating_doctor.secure_messaging_address = "claire.morel@medecin.mssante.fr"
    personas.treating_doctor.save()
    return actions.send_message(
        personas.treating_doctor.user,
        actions.Draft(
            subject="Avis sur Mme Girard",
            body="Pouvez-vous la voir cette semaine ?",
            professionals=[outside],
            uploads=[actions.Upload("courrier.pdf", PDF)],
            **kw,
        ),
    )


@pytest.mark.django_db
def test_it_sends_over_starttls_with_the_attachment(
    personas, relay, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = _send(personas)

    assert relay.arrived.wait(5)
    [received] = relay.received
    assert received["tls"] is True
    assert received["rcpt_tos"] == [OUTSIDE]
    assert received["mail_from"] == "claire.morel@medecin.mssante.fr"
    mail = email.message_from_bytes(received["content"], policy=email.policy.default)
    assert mail["From"] == "Dr Claire Morel <claire.morel@medecin.mssante.fr>"
    assert mail["To"] == OUTSIDE
    assert mail["Subject"] == "Avis sur Mme Girard"
    assert mail["Message-ID"] == message.message_id
    body = mail.get_body(("plain",))
    assert body is not None
    assert body.get_content().strip() == "Pouvez-vous la voir cette semaine ?"
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "courrier.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF

    delivery = message.deliveries.get()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.error == "" and delivery.attempted_at is not None


@pytest.mark.django_db
def test_without_an_mssante_address_it_sends_from_us_replying_to_the_sender(
    personas, relay, django_capture_on_commit_callbacks, settings
) -> None:
    settings.DEFAULT_FROM_EMAIL = "Maillage <messagerie@maillage.example>"
    doctor = personas.treating_doctor.user
    doctor.email = "claire.morel@example.org"
    doctor.save()
    with django_capture_on_commit_callbacks(execute=True):
        message = actions.send_message(
            doctor,
            actions.Draft(subject="Question", body="Bonjour", addresses=[OUTSIDE]),
        )
    assert relay.arrived.wait(5)
    mail = email.message_from_bytes(relay.received[0]["content"], policy=email.policy.default)
    assert mail["From"] == "Maillage <messagerie@maillage.example>"
    assert mail["Reply-To"] == "Dr Claire Morel <claire.morel@example.org>"
    assert message.message_id.endswith("@maillage.example>")


@pytest.mark.django_db
def test_a_certificate_from_an_unknown_authority_is_refused(
    personas, relay, settings, tmp_path, django_capture_on_commit_callbacks
) -> None:
    (tmp_path / "other").mkdir()
    other_ca, _key = self_signed_certificate(tmp_path / "other")
    settings.MAILLAGE_SMTP_CA_FILE = str(other_ca)
    with django_capture_on_commit_callbacks(execute=True):
        message = _send(personas)
    delivery = message.deliveries.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "certificate verify failed" in delivery.error
    assert relay.received == []


def _retry_now(delivery) -> None:
    """Time passes: the backoff of the delivery's mail is over."""
    OutgoingMail.objects.filter(delivery=delivery).update(next_attempt_at=timezone.now())


@pytest.mark.django_db
def test_a_relay_that_is_down_leaves_the_message_kept_retried_then_failed(
    personas, settings, django_capture_on_commit_callbacks
) -> None:
    settings.EMAIL_BACKEND = "maillage.messaging.gateway.RelayEmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nobody listens there
    settings.EMAIL_TIMEOUT = 2
    settings.MAILLAGE_TASK_MAX_ATTEMPTS = 2
    with django_capture_on_commit_callbacks(execute=True):
        message = _send(personas)

    message = Message.objects.get(pk=message.pk)
    assert message.body == "Pouvez-vous la voir cette semaine ?"
    assert message.attachments.count() == 1
    delivery = message.deliveries.get()
    # First attempt refused: still being sent, the error shown, a retry planned after a backoff.
    assert delivery.status == DeliveryStatus.PENDING
    assert "refused" in delivery.error.lower()
    mail = OutgoingMail.objects.get(delivery=delivery)
    assert mail.attempts == 1 and mail.next_attempt_at > timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule.sweep() == 0  # not before the backoff is over
    _retry_now(delivery)
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule.sweep() == 1
    mail.refresh_from_db()
    assert mail.attempts == 2 and mail.status == WorkStatus.FAILED
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "refused" in delivery.error.lower()

    from maillage.front.tests.test_home import signed_in

    text = page_text(
        signed_in(personas.treating_doctor.user).get(f"/messagerie/{message.thread.uuid}/")
    )
    assert delivery.error in text


@pytest.mark.django_db
def test_the_sender_sends_again_once_the_relay_is_back(
    personas, relay, settings, django_capture_on_commit_callbacks
) -> None:
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()
    settings.MAILLAGE_TASK_MAX_ATTEMPTS = 1
    with django_capture_on_commit_callbacks(execute=True):
        message = _send(personas)
    assert message.deliveries.get().status == DeliveryStatus.FAILED

    settings.EMAIL_PORT = port
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = actions.send_again(personas.treating_doctor.user, message)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert relay.arrived.wait(5)
    [received] = relay.received
    sent = email.message_from_bytes(received["content"], policy=email.policy.default)
    assert sent["Message-ID"] == message.message_id  # the same mail, for the receiver to dedupe
    with pytest.raises(actions.MessagingRuleBroken):
        actions.send_again(personas.treating_doctor.user, message)


@pytest.mark.django_db
def test_a_message_sent_is_never_sent_again_by_a_duplicate_task(
    personas, relay, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = _send(personas)
    assert relay.arrived.wait(5)
    mail = OutgoingMail.objects.get(delivery=message.deliveries.get())
    assert mail.status == WorkStatus.DONE and mail.attempts == 1
    # The queue delivers the task twice, the sweep runs: the relay sees one mail.
    send_outgoing.enqueue(mail.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule.sweep() == 0
    assert len(relay.received) == 1
    mail.refresh_from_db()
    assert mail.attempts == 1


def test_the_backend_always_uses_starttls_and_our_trust_anchors(settings, tmp_path) -> None:
    cert, _key = self_signed_certificate(tmp_path)
    settings.MAILLAGE_SMTP_CA_FILE = str(cert)
    backend = gateway.RelayEmailBackend(use_tls=False, use_ssl=True)
    assert backend.use_tls is True and backend.use_ssl is False
    context = backend.ssl_context
    assert context.check_hostname is True
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert len(context.get_ca_certs()) == 1

    settings.MAILLAGE_SMTP_CA_FILE = ""
    public = gateway.RelayEmailBackend().ssl_context
    assert public.check_hostname is True and public.verify_mode == ssl.CERT_REQUIRED
