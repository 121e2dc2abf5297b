"""The SMTP gateway between Maillage and the outside (MSSanté operators and others).

Outbound: ``RelayEmailBackend`` talks to the configured relay, always over
STARTTLS, trusting the CA bundle of MSSanté's trust space (IGC Santé) when
MAILLAGE_SMTP_CA_FILE names one, and checking the relay's host name.
``outbound_email`` turns a message into a MIME mail; sending it and recording
each recipient's status is ``actions.send_outside``.

Inbound: ``InboundHandler`` is an aiosmtpd handler. It accepts a recipient
only when it is the MSSanté address of a professional with an active
Maillage account, and delivers the mail into their inbox through
``actions.deliver_inbound``. The ORM runs in a worker thread, never in
aiosmtpd's event loop, and that thread closes its database connection after
each mail. ``manage.py smtp_listener`` runs it; tests run it in their own
aiosmtpd Controller.
"""

from __future__ import annotations

import email
import email.policy
import logging
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage as MimeMessage
from email.utils import formataddr, getaddresses, make_msgid, parseaddr
from functools import cached_property
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend
from django.db import close_old_connections, connections
from django.utils.html import strip_tags
from django.utils.translation import ngettext

from maillage.files.storage import safe_name

if TYPE_CHECKING:
    from aiosmtpd.controller import Controller

    from maillage.messaging.models import Message

logger = logging.getLogger(__name__)

# What an incoming body may hold; longer mails are cut (attachments are separate).
MAX_BODY_CHARS = 100_000
# Base64 makes attachments a third bigger, and headers and text come on top.
DATA_SIZE_FACTOR = 1.4


class RelayEmailBackend(EmailBackend):
    """Django's SMTP backend with STARTTLS always on and our trust anchors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["use_tls"] = True
        kwargs["use_ssl"] = False
        super().__init__(*args, **kwargs)

    @cached_property
    def ssl_context(self) -> ssl.SSLContext:
        # create_default_context verifies the certificate and the host name.
        ca_file = settings.MAILLAGE_SMTP_CA_FILE or None
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.ssl_certfile:
            # MSSanté operators authenticate each other with client certificates.
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context


# --- Outbound -------------------------------------------------------------------


def domain_of(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "maillage.invalid"


@dataclass(frozen=True)
class OutboundFile:
    name: str
    mime: str
    data: bytes


@dataclass(frozen=True)
class Envelope:
    """Who the outbound mail says it is from, and where replies should go."""

    from_email: str
    reply_to: list[str] = field(default_factory=list)


def sender_envelope(display_name: str, mssante_address: str, user_email: str) -> Envelope:
    """From the sender's MSSanté address when they have one; else ours, replying to them."""
    if mssante_address:
        return Envelope(formataddr((display_name, mssante_address)))
    reply_to = [formataddr((display_name, user_email))] if user_email else []
    return Envelope(settings.DEFAULT_FROM_EMAIL, reply_to)


def new_message_id(envelope: Envelope) -> str:
    return make_msgid(domain=domain_of(envelope.from_email))


def outbound_email(
    message: Message,
    envelope: Envelope,
    *,
    envelope_to: str,
    header_to: list[str],
    files: list[OutboundFile],
    references: list[str],
) -> EmailMessage:
    """The MIME mail of a message, for one envelope recipient (one status each)."""
    headers = {"Message-ID": message.message_id, "To": ", ".join(header_to)}
    if references:
        headers["In-Reply-To"] = references[-1]
        headers["References"] = " ".join(references)
    mail = EmailMessage(
        subject=message.thread.subject,
        body=message.body,
        from_email=envelope.from_email,
        to=[envelope_to],
        reply_to=envelope.reply_to or None,
        headers=headers,
    )
    for item in files:
        mail.attach(item.name, item.data, item.mime)
    return mail


# --- Inbound --------------------------------------------------------------------


@dataclass(frozen=True)
class IncomingFile:
    name: str
    data: bytes


@dataclass(frozen=True)
class IncomingMail:
    sender_name: str
    sender_address: str
    subject: str
    body: str
    message_id: str
    references: list[str]
    files: list[IncomingFile]
    # Attachments refused before their content is looked at: (name, reason).
    refused: list[tuple[str, str]] = field(default_factory=list)


def parse_mail(raw: bytes, mail_from: str = "") -> IncomingMail:
    """What Maillage keeps of a mail: sender, subject, text, Message-IDs, attachments."""
    parsed = email.message_from_bytes(raw, _class=MimeMessage, policy=email.policy.default)
    name, address = parseaddr(str(parsed.get("From", "")))
    if "@" not in address:
        # No From header: the envelope sender, unless it is the null sender of a bounce.
        name, address = "", parseaddr(mail_from)[1]
    if "@" not in address:
        address = ""
    references = [
        a
        for value in (parsed.get_all("References") or []) + (parsed.get_all("In-Reply-To") or [])
        for a in str(value).split()
        if a.startswith("<")
    ]
    # The DATA limit bounds the bytes; this bounds the files, as on the web.
    attachments = [_file_of(part) for part in parsed.iter_attachments()]
    limit = settings.MAILLAGE_MAX_UPLOAD_FILES
    too_many = ngettext(
        "Too many files sent at once: at most %(n)d.",
        "Too many files sent at once: at most %(n)d.",
        limit,
    ) % {"n": limit}
    return IncomingMail(
        sender_name=name.strip()[:200],
        sender_address=address.strip()[:254],
        subject=" ".join(str(parsed.get("Subject", "")).split())[:200],
        body=_text_of(parsed)[:MAX_BODY_CHARS],
        message_id=str(parsed.get("Message-ID", "")).strip()[:300],
        references=references,
        files=attachments[:limit],
        refused=[(safe_name(f.name), too_many) for f in attachments[limit:]],
    )


def _text_of(parsed: MimeMessage) -> str:
    part = parsed.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        content = strip_tags(content)
    return content.strip()


def _file_of(part: Any) -> IncomingFile:
    name = str(part.get_filename() or "piece-jointe")
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else part.as_bytes()
    return IncomingFile(name, data)


def addresses_in(value: str) -> list[str]:
    return [address for _name, address in getaddresses([value]) if address]


class InboundHandler:
    """aiosmtpd handler: known professionals' addresses only, delivered into their inboxes."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        known = await sync_to_async(_in_worker(_is_known), thread_sensitive=False)(address)
        if not known:
            return "550 5.1.1 Unknown recipient: no such mailbox in Maillage"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or b""
        try:
            delivered = await sync_to_async(_in_worker(_deliver), thread_sensitive=False)(
                envelope.mail_from or "", list(envelope.rcpt_tos), raw
            )
        except Exception:
            # The sender's server will try again later: nothing is lost.
            logger.exception("incoming mail not delivered")
            return "451 4.3.0 Temporary failure, please try again later"
        if not delivered:
            # Every mailbox closed between RCPT and DATA: say so rather than drop the mail.
            return "550 5.1.1 No such mailbox in Maillage"
        return "250 2.0.0 Delivered"


def _in_worker(function: Any) -> Any:
    """Run ORM work in a worker thread with a fresh connection, closed afterwards."""

    def run(*args: Any) -> Any:
        close_old_connections()
        try:
            return function(*args)
        finally:
            connections.close_all()

    return run


def _is_known(address: str) -> bool:
    from maillage.messaging.queries import professional_by_address

    return bool(professional_by_address(address))


def _deliver(mail_from: str, rcpt_tos: list[str], raw: bytes) -> bool:
    from maillage.audit.context import audit_context
    from maillage.audit.models import Channel
    from maillage.messaging.actions import deliver_inbound

    with audit_context(Channel.SMTP):
        return deliver_inbound(parse_mail(raw, mail_from), rcpt_tos) is not None


def data_size_limit() -> int:
    return int(settings.MAILLAGE_MAX_UPLOAD_BYTES * DATA_SIZE_FACTOR)


def listener(
    host: str = "127.0.0.1", port: int = 2525, tls_context: ssl.SSLContext | None = None
) -> Controller:
    """An aiosmtpd Controller serving InboundHandler; STARTTLS required when TLS is set."""
    from aiosmtpd.controller import Controller

    return Controller(
        InboundHandler(),
        hostname=host,
        port=port,
        tls_context=tls_context,
        require_starttls=tls_context is not None,
        data_size_limit=data_size_limit(),
    )


def server_tls_context(cert_file: str, key_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    return context
