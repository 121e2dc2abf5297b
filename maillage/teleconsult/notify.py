"""Sending a guest her link: by email, or by SMS through the platform's SMS provider.

The link carries the raw token, so it is sent once, after the commit, and
kept nowhere (the invitation keeps its SHA-256 only): not in the mail or
SMS queues either (a failed send is logged; the doctor was shown the link
to give another way). An SMS goes through the agenda's provider interface
(``maillage.agenda.sms.backend()``, the console by default).
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.translation import gettext as _

from maillage.accounts.notify import absolute_url

if TYPE_CHECKING:
    from maillage.teleconsult.models import Invitation

logger = logging.getLogger(__name__)


def link_path(token: str) -> str:
    return reverse("teleconsult:guest", kwargs={"token": token})


def send_invitation(invitation: Invitation, token: str) -> None:
    """Never raises: a link that could not be sent is logged; the doctor can copy it instead."""
    link = absolute_url(link_path(token))
    text = _(
        "You are invited to a teleconsultation on Maillage. "
        "Open this link (it works once): %(link)s"
    ) % {"link": link}
    try:
        if invitation.channel == "sms":
            _send_sms(invitation.address, text)
        else:
            send_mail(
                _("Your teleconsultation link"),
                text,
                settings.DEFAULT_FROM_EMAIL,
                [invitation.address],
            )
    except Exception:
        logger.exception("could not send invitation %s", invitation.uuid)


def _send_sms(number: str, text: str) -> None:
    """Through the agenda's provider interface, at once: no queued row keeps the token."""
    try:
        sms = importlib.import_module("maillage.agenda.sms")
    except ImportError:
        logger.info("SMS to %s: %s", number, text)
        return
    sms.backend().send(sms.normalise(number), text)
