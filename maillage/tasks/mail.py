"""Outgoing mail, exactly once: notices to people and secure messages to outside addresses.

What "exactly once" means against an SMTP relay. The relay holds a mail
from the moment it answers 250 to the end of DATA, and only then. The
worker marks the row SENT right after that 250, in its own statement. So a
row found still SENDING after ``MAILLAGE_TASK_CLAIM_TIMEOUT`` (its worker
died) means the worker never saw that 250: either the connection died
before the relay took the mail (a relay must not deliver an unfinished
transaction, RFC 5321 4.1.1.4), and sending it again is the only way it
arrives; or the worker died in the few microseconds between reading the 250
and the UPDATE, the one window SMTP cannot close (RFC 1047). A restarted
worker therefore resends such a row, with the same Message-ID (fixed when
the row was created), so that a receiver that did get both drops the second
(MSSanté operators and mail clients dedupe on Message-ID). A row SENT is
never sent again; a row FAILED is sent again only when its sender asks.

The claim timeout must exceed the longest attempt (each SMTP step is
bounded by ``EMAIL_TIMEOUT``), or a slow live attempt could be taken over.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from maillage.messaging.gateway import domain_of
from maillage.tasks import claims
from maillage.tasks.models import MailKind, OutgoingMail, WorkStatus
from maillage.tasks.queue import send_mail_later

if TYPE_CHECKING:
    from maillage.accounts.models import User

logger = logging.getLogger(__name__)

# For mail, a claimed row is "sending" and a finished one "sent".
SENDING = WorkStatus.RUNNING
SENT = WorkStatus.DONE


class Undeliverable(Exception):
    """This mail can never go (a file failed its check, a receiver is no longer allowed)."""


def new_message_id() -> str:
    # The domain of our sender address, as messaging's Message-IDs do.
    from email.utils import make_msgid

    return make_msgid(domain=domain_of(settings.DEFAULT_FROM_EMAIL))


def queue_notice(user: User, subject: str, body: str, *, key: str | None = None) -> OutgoingMail:
    """A notice row, once per key; its task is enqueued when the caller's transaction commits."""
    with transaction.atomic():
        row, created = OutgoingMail.objects.get_or_create(
            key=key or f"notice:{uuid.uuid4()}",
            defaults={
                "kind": MailKind.NOTICE,
                "to_address": user.email,
                "user": user,
                "subject": subject[:300],
                "body": body,
                "message_id": new_message_id(),
            },
        )
    if created:
        send_mail_later(row.pk)
    return row


def queue_outside(delivery_pk: int, address: str, message_id: str) -> OutgoingMail:
    """The row that sends one delivery of a secure message to its outside address."""
    with transaction.atomic():
        row, created = OutgoingMail.objects.get_or_create(
            key=f"delivery:{delivery_pk}",
            defaults={
                "kind": MailKind.MESSAGE,
                "to_address": address,
                "delivery_id": delivery_pk,
                "message_id": message_id,
            },
        )
    if created:
        send_mail_later(row.pk)
    return row


def send_again(deliveries: list[tuple[int, str]], message_id: str) -> int:
    """Failed deliveries (pk, address) go back to the queue: new attempts, same Message-ID."""
    pks = []
    for delivery_pk, address in deliveries:
        row = queue_outside(delivery_pk, address, message_id)
        if row.status == WorkStatus.FAILED:
            pks.append(row.pk)
    OutgoingMail.objects.filter(pk__in=pks, status=WorkStatus.FAILED).update(
        status=WorkStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), error=""
    )
    for pk in pks:
        send_mail_later(pk)
    return len(pks)


def deliver(pk: int) -> str:
    """One attempt at one mail: claim it, talk to the relay, record what the relay said."""
    row = claims.claim(OutgoingMail, pk)
    if row is None:
        return "not claimed"
    connection = get_connection(fail_silently=False)
    try:
        mail = _build(row)
        connection.open()
        # The connection is ours: send_messages leaves it open, so that a failing
        # QUIT after the relay's 250 can never be taken for a mail not sent.
        connection.send_messages([mail])
    except Undeliverable as error:
        claims.fail(row, str(error), permanent=True)
    except (OSError, smtplib.SMTPException) as error:
        claims.fail(row, smtp_error(error), permanent=_permanent(error))
    except Exception as error:
        # A bug or the database: the relay did not answer 250, so try again later.
        logger.exception("outgoing mail %s: attempt failed", pk)
        claims.fail(row, type(error).__name__, permanent=False)
    else:
        # The relay answered 250: it holds the mail. Say so before anything else can fail.
        claims.finish(row)
    finally:
        _close(connection)
    mirror(row)
    return row.status


def _close(connection: Any) -> None:
    try:
        connection.close()
    except (OSError, smtplib.SMTPException):
        logger.warning("closing the SMTP connection failed", exc_info=True)


def _build(row: OutgoingMail) -> EmailMessage:
    if row.kind == MailKind.NOTICE:
        return EmailMessage(
            subject=row.subject,
            body=row.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[row.to_address],
            headers={"Message-ID": row.message_id},
        )
    from maillage.messaging.actions import OutsideMailRefused, outside_mail

    assert row.delivery_id is not None
    try:
        return outside_mail(row.delivery_id)
    except OutsideMailRefused as error:
        raise Undeliverable(str(error)) from None


def mirror(row: OutgoingMail) -> None:
    """The delivery the sender sees follows its mail: sent, failed, or still being sent."""
    if row.delivery_id is None:
        return
    from maillage.messaging.actions import record_outside_status

    record_outside_status(row.delivery_id, row.status, row.error)


def _permanent(error: Exception) -> bool:
    """A 5xx answer, or a relay we cannot trust, will not change by trying again."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _reply in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


def smtp_error(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {_text(reply)}"
            for address, (code, reply) in error.recipients.items()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return str(error) or error.__class__.__name__


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
