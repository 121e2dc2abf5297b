"""Telling the other side of an appointment: email notices and SMS, each receiver decided.

A booking, a move or a cancellation is told to the other side (the patient
when the professional's side acted, the professional when the patient did;
both when a third person did). Every receiver is asked to the policy
(APPOINTMENT_RECEIVE: one audit entry on the patient, granted or refused by
its rule) before anything is queued; a patient without an account is told
at the contact details of her identity record (her own, so no one else's
decision), audited too. Notices and SMS carry no health data: a date, an
hour, the modality, a link; never the reason nor the professional's name
(a specialty can say too much). They are rows with idempotency keys
(appointment, step, version, receiver), queued in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from maillage.accounts.notify import absolute_url, send_notice
from maillage.agenda import sms
from maillage.agenda.models import Appointment, Modality
from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome
from maillage.policy import agenda as policy
from maillage.policy.relations import Relation
from maillage.realtime.events import APPOINTMENT_CHANGED, publish

if TYPE_CHECKING:
    from maillage.accounts.models import User


def path_of(appointment: Appointment) -> str:
    return reverse("agenda:appointment", kwargs={"uuid": appointment.uuid})


def when(appointment: Appointment) -> str:
    local = timezone.localtime(appointment.start)
    return formats.date_format(local, "l j F Y à H:i") if local else ""


def _modality(appointment: Appointment) -> str:
    return str(_("teleconsultation") if appointment.modality == Modality.REMOTE else _("in person"))


def _other_side(appointment: Appointment, actor: User | None) -> list[User]:
    users: list[User] = []
    patient_user = appointment.patient.user
    if patient_user is not None:
        users.append(patient_user)
    pro_user = appointment.professional.user
    if pro_user is not None:
        users.append(pro_user)
    return [u for u in users if actor is None or u.pk != actor.pk]


def tell(
    appointment: Appointment,
    step: str,
    subject: str,
    line: str,
    *,
    actor: User | None,
    receivers: list[User] | None = None,
    sms_text: str = "",
) -> int:
    """Tell each receiver the policy allows; how many were told."""
    told = 0
    key = f"agenda:{appointment.uuid}:{step}:v{appointment.version}"
    path = path_of(appointment)
    for user in receivers if receivers is not None else _other_side(appointment, actor):
        if not policy.receiver_allowed(actor, user, appointment):
            continue
        told += 1
        send_notice(user, subject, [line], path, key=f"{key}:u{user.pk}")
        publish(user.pk, APPOINTMENT_CHANGED, {"appointment": str(appointment.uuid), "step": step})
        if sms_text and user.pk == appointment.patient.user_id and appointment.patient.phone:
            sms.queue_sms(
                appointment.patient.phone, sms_text, key=f"{key}:sms:u{user.pk}", user_id=user.pk
            )
    if appointment.patient.user_id is None and (actor is None or actor.pk is not None):
        told += _tell_contact(appointment, key, subject, line, sms_text, actor)
    return told


def _tell_contact(
    appointment: Appointment, key: str, subject: str, line: str, text: str, actor: User | None
) -> int:
    """A patient without an account: her identity record's email and phone (audited)."""
    from maillage.tasks.mail import new_message_id, send_mail_later
    from maillage.tasks.models import MailKind, OutgoingMail

    patient = appointment.patient
    if not patient.email and not patient.phone:
        return 0
    record(
        actor,
        Event(
            action=Action.APPOINTMENT_RECEIVE,
            outcome=Outcome.GRANTED,
            patient=patient,
            basis=Relation.SELF,
            detail={"appointment": str(appointment.uuid), "receiver": "patient_contact"},
        ),
    )
    if patient.email:
        body = "\n\n".join([line, _("Maillage: to change it, call your practice."), "— Maillage"])
        row, created = OutgoingMail.objects.get_or_create(
            key=f"{key}:contact",
            defaults={
                "kind": MailKind.NOTICE,
                "to_address": patient.email,
                "subject": subject[:300],
                "body": body,
                "message_id": new_message_id(),
            },
        )
        if created:
            send_mail_later(row.pk)
    if text and patient.phone:
        sms.queue_sms(patient.phone, text, key=f"{key}:sms:contact")
    return 1


def _sms(appointment: Appointment, what: str) -> str:
    return _("Maillage: %(what)s %(when)s (%(modality)s). %(link)s") % {
        "what": what,
        "when": when(appointment),
        "modality": _modality(appointment),
        "link": absolute_url(path_of(appointment)),
    }


def booked(appointment: Appointment, *, by: User) -> None:
    with override("fr"):
        line = _("An appointment was booked on %(when)s (%(modality)s).") % {
            "when": when(appointment),
            "modality": _modality(appointment),
        }
        tell(
            appointment,
            "booked",
            _("Maillage: an appointment was booked"),
            line,
            actor=by,
            sms_text=_sms(appointment, _("appointment booked on")),
        )


def cancelled(appointment: Appointment, *, by: User) -> None:
    with override("fr"):
        line = _("The appointment of %(when)s was cancelled.") % {"when": when(appointment)}
        tell(
            appointment,
            "cancelled",
            _("Maillage: an appointment was cancelled"),
            line,
            actor=by,
            sms_text=_sms(appointment, _("appointment cancelled:")),
        )


def moved(old: Appointment, new: Appointment, *, by: User) -> None:
    with override("fr"):
        line = _("The appointment of %(old)s was moved to %(new)s (%(modality)s).") % {
            "old": when(old),
            "new": when(new),
            "modality": _modality(new),
        }
        tell(
            new,
            "moved",
            _("Maillage: an appointment was moved"),
            line,
            actor=by,
            sms_text=_sms(new, _("appointment moved to")),
        )


def reminder(appointment: Appointment, step: str, now: dt.datetime) -> int:
    """The 24 h or 1 h reminder: to the patient (mail and SMS); 1 h before, to the doctor too."""
    with override("fr"):
        line = _("Reminder: appointment on %(when)s (%(modality)s).") % {
            "when": when(appointment),
            "modality": _modality(appointment),
        }
        if appointment.modality == Modality.REMOTE:
            line += " " + _("Open the link a few minutes before to test your camera.")
        receivers = [appointment.patient.user] if appointment.patient.user is not None else []
        if step == "1h" and appointment.professional.user is not None:
            receivers.append(appointment.professional.user)
        return tell(
            appointment,
            f"reminder-{step}",
            _("Maillage: reminder of your appointment"),
            line,
            actor=None,
            receivers=receivers,
            sms_text=_sms(appointment, _("reminder, appointment on")),
        )
