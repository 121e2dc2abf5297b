"""The only writers of teleconsultations. Each passes ``policy.teleconsult`` and is audited.

The acts slice hangs the report and the eligibility on a consultation:
``close(seat_or_consultation, by)`` ends the act (status finished, ended,
everyone out of the room) and then sends the ``consultation_closed``
signal (``sender=Consultation``, ``consultation=``, ``by=``) after the
commit; a receiver may render and file the report. ``end`` is the doctor's
button: the policy's check, then ``close``. ``for_appointment(user,
appointment)`` makes the act of a remote appointment once (its patient or
its doctor, read through the agenda's policy); ``create_consultation`` makes
the rows of an act for a caller that decided and audits (booking, the demo).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome
from maillage.files import storage
from maillage.policy.gate import PatientNotFound, authorize
from maillage.policy.teleconsult import Change, Seat, seat_for_change

__all__ = ["seat_for_change"]
from maillage.teleconsult.models import (
    GUEST_ROLES,
    ChatMessage,
    Consent,
    Consultation,
    Incident,
    IncidentKind,
    Invitation,
    InvitationChannel,
    Modality,
    Participant,
    ParticipantRole,
    Quality,
    SharedFile,
    Status,
)

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.directory.models import Professional
    from maillage.patients.models import Patient
    from maillage.records.models import Document

# Sent after the commit of ``close``: kwargs ``consultation`` and ``by`` (a User or None).
consultation_closed = Signal()

# Doctor, patient and two third parties: a mesh of four.
MAX_PARTICIPANTS = 4
MAX_CHAT = 2000
# A patient guest who typed a wrong birth date this many times needs a new link.
MAX_BIRTH_DATE_TRIES = 5

# The wording shown and kept with the consent (in the language it was shown in).
CONSENT_WORDING = gettext_noop(
    "I agree to this consultation taking place remotely, by video or by sound. I may stop it "
    "at any time and ask for an in-person consultation instead."
)


class RoomRuleBroken(Exception):
    """An action refused by a rule of the act; ``message`` is for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _now() -> dt.datetime:
    return timezone.now()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- Opening -------------------------------------------------------------------------


def open_consultation(
    user: User,
    patient: Patient,
    doctor: Professional,
    *,
    reason: str = "",
    modality: str = Modality.VIDEO,
    planned_start: dt.datetime | None = None,
) -> Consultation:
    """A doctor opens an act with a patient they follow; she has her seat if she has an account."""
    if doctor.user_id != user.pk:
        raise RoomRuleBroken(_("Only the doctor of the act opens it."))
    grant = authorize(user, patient, Action.TELECONSULT_OPEN)
    with transaction.atomic():
        consultation = create_consultation(
            patient, doctor, by=user, reason=reason, modality=modality, planned_start=planned_start
        )
        grant.done(consultation=str(consultation.uuid))
    return consultation


def create_consultation(
    patient: Patient,
    doctor: Professional,
    *,
    by: User | None,
    reason: str = "",
    modality: str = Modality.VIDEO,
    planned_start: dt.datetime | None = None,
) -> Consultation:
    """The rows of a new act and its two seats; the caller decided and audits (booking, opening)."""
    if doctor.user is None:
        raise RoomRuleBroken(_("This doctor has no account to teleconsult with."))
    consultation = Consultation.objects.create(
        patient=patient,
        doctor=doctor,
        reason=reason.strip()[:300],
        modality=modality,
        planned_start=planned_start,
        created_by=by,
    )
    Participant.objects.create(
        consultation=consultation,
        user=doctor.user,
        display_name=f"Dr {doctor.first_name} {doctor.last_name}".strip(),
        role=ParticipantRole.DOCTOR,
    )
    if patient.user_id is not None:
        Participant.objects.create(
            consultation=consultation,
            user_id=patient.user_id,
            display_name=f"{patient.first_birth_given_name} {patient.birth_name}".strip(),
            role=ParticipantRole.PATIENT,
        )
    return consultation


def for_appointment(user: User, appointment_uuid: object) -> Consultation:
    """The act of a remote appointment, opened by its patient or its doctor (once).

    The appointment is read through the agenda's policy (audited); the act is
    made the first time either side comes, with its two seats.
    """
    from maillage.agenda.models import AppointmentStatus
    from maillage.agenda.models import Modality as AppointmentModality
    from maillage.policy.agenda import open_appointment

    opened = open_appointment(user, appointment_uuid, detail={"teleconsultation": True})
    appointment = opened.appointment
    if appointment.modality != AppointmentModality.REMOTE:
        raise RoomRuleBroken(_("This appointment is in person."))
    existing = Consultation.objects.filter(appointment=appointment).first()
    if existing is not None:
        return existing
    if appointment.status != AppointmentStatus.BOOKED:
        raise RoomRuleBroken(_("This appointment is no longer booked."))
    with transaction.atomic():
        consultation = create_consultation(
            appointment.patient,
            appointment.professional,
            by=user,
            reason=appointment.reason,
            planned_start=appointment.start,
        )
        Consultation.objects.filter(pk=consultation.pk).update(appointment=appointment)
        record(
            user,
            Event(
                action=Action.TELECONSULT_OPEN,
                patient=appointment.patient,
                basis="appointment",
                detail={
                    "consultation": str(consultation.uuid),
                    "appointment": str(appointment.uuid),
                },
            ),
        )
    consultation.refresh_from_db()
    return consultation


# --- Guests ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    # The raw token, in the link sent; never stored.
    token: str


def invite(
    seat: Seat,
    change: Change,
    *,
    name: str,
    role: str,
    channel: str,
    address: str,
) -> NewInvitation:
    """The doctor invites a guest with no account by a single-use link (email or SMS)."""
    name, address = name.strip(), address.strip()
    if role not in GUEST_ROLES:
        change.failed("bad_role")
        raise RoomRuleBroken(_("Choose who the guest is."))
    if channel not in InvitationChannel.values or not address or not name:
        change.failed("bad_address")
        raise RoomRuleBroken(_("Give the guest's name and an email address or a phone number."))
    if not seat.consultation.is_open:
        change.failed("closed")
        raise RoomRuleBroken(_("This teleconsultation is over."))
    consultation = seat.consultation
    with transaction.atomic():
        if Participant.objects.filter(consultation=consultation).count() >= MAX_PARTICIPANTS:
            change.failed("full")
            raise RoomRuleBroken(_("A teleconsultation takes at most four people."))
        guest = Participant.objects.create(
            consultation=consultation, display_name=name[:150], role=role
        )
        token = secrets.token_urlsafe(32)
        hours = float(settings.MAILLAGE_TELECONSULT_INVITATION_HOURS)
        invitation = Invitation.objects.create(
            participant=guest,
            channel=channel,
            address=address[:254],
            token_hash=hash_token(token),
            created_by=seat.user,
            expires_at=_now() + dt.timedelta(hours=hours),
            checks_birth_date=role == ParticipantRole.PATIENT,
        )
        change.done(invited=str(guest.uuid), role=role, channel=channel)
    from maillage.teleconsult import notify

    transaction.on_commit(lambda: notify.send_invitation(invitation, token))
    return NewInvitation(invitation, token)


class InvitationRefused(Exception):
    """A link that opens nothing: unknown, used, expired, or the wrong birth date."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


def find_invitation(token: str) -> Invitation | None:
    if not token or len(token) > 100:
        return None
    return (
        Invitation.objects.select_related("participant__consultation__patient")
        .filter(token_hash=hash_token(token))
        .first()
    )


def _refuse_invitation(invitation: Invitation | None, reason: str, message: str) -> None:
    patient = invitation.participant.consultation.patient if invitation else None
    detail = {"rule": reason}
    if invitation is not None:
        detail["guest"] = str(invitation.participant.uuid)
        detail["consultation"] = str(invitation.participant.consultation.uuid)
    record(
        None,
        Event(
            action=Action.TELECONSULT_READ, outcome=Outcome.DENIED, patient=patient, detail=detail
        ),
    )
    raise InvitationRefused(reason, message)


def redeem(token: str, birth_date: dt.date | None) -> Participant:
    """A guest opens her link: once, before it expires, with the patient's birth date if asked."""
    invitation = find_invitation(token)
    gone = _("This link no longer opens the teleconsultation. Ask the doctor for a new one.")
    if invitation is None:
        _refuse_invitation(None, "unknown_invitation", gone)
        raise AssertionError  # unreachable
    consultation = invitation.participant.consultation
    if invitation.used_at is not None:
        _refuse_invitation(invitation, "used", gone)
    if invitation.expires_at <= _now() or not consultation.is_open:
        _refuse_invitation(invitation, "expired", gone)
    if invitation.failed_attempts >= MAX_BIRTH_DATE_TRIES:
        _refuse_invitation(invitation, "too_many_tries", gone)
    if invitation.checks_birth_date and birth_date != consultation.patient.birth_date:
        Invitation.objects.filter(pk=invitation.pk).update(failed_attempts=F("failed_attempts") + 1)
        _refuse_invitation(
            invitation,
            "birth_date",
            _("This birth date is not the one of the patient of this teleconsultation."),
        )
    with transaction.atomic():
        # Single use even under two clicks at once: the UPDATE claims it.
        claimed = Invitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(
            used_at=_now()
        )
        if not claimed:
            _refuse_invitation(invitation, "used", gone)
        record(
            None,
            Event(
                action=Action.TELECONSULT_READ,
                patient=consultation.patient,
                basis="teleconsult_guest",
                detail={
                    "consultation": str(consultation.uuid),
                    "guest": str(invitation.participant.uuid),
                    "invitation": "redeemed",
                },
            ),
        )
    return invitation.participant


# --- The waiting room --------------------------------------------------------------------


def give_consent(seat: Seat, change: Change) -> Consent:
    """The patient (or the professional beside her) consents to the remote act."""
    if seat.participant.role not in {ParticipantRole.PATIENT, ParticipantRole.ASSISTANT}:
        change.failed("not_the_patient")
        raise RoomRuleBroken(_("Only the patient, or the professional beside her, consents."))
    with transaction.atomic():
        consent = Consent.objects.create(
            consultation=seat.consultation,
            given_by=seat.participant,
            given_at=_now(),
            wording=_(CONSENT_WORDING),
        )
        change.done(consent=consent.pk, by_role=seat.participant.role)
    return consent


def has_consent(consultation: Consultation) -> bool:
    return Consent.objects.filter(consultation=consultation).exists()


def arrive(seat: Seat) -> Participant:
    """A socket of this participant opened: in the waiting room, or back in the room.

    A participant who had left comes back to the waiting room (admitted
    again); one who only dropped (no leave) is still admitted, and an open
    drop incident is closed by a reconnection.
    """
    now = _now()
    participant = seat.participant
    consultation = seat.consultation
    with transaction.atomic():
        fields: dict[str, object] = {"online": True}
        if participant.left_at is not None and consultation.is_open:
            fields.update(left_at=None, admitted_at=None, admitted_by=None)
        if participant.joined_at is None or "left_at" in fields:
            fields["joined_at"] = now
        Participant.objects.filter(pk=participant.pk).update(**fields)
        drop = (
            Incident.objects.filter(
                consultation=consultation,
                participant=participant,
                kind=IncidentKind.DROP,
                ended_at__isnull=True,
            )
            .order_by("-at")
            .first()
        )
        if drop is not None:
            Incident.objects.filter(pk=drop.pk).update(ended_at=now)
            Incident.objects.create(
                consultation=consultation,
                participant=participant,
                kind=IncidentKind.RECONNECTION,
                at=now,
                detail={"after_seconds": round((now - drop.at).total_seconds(), 1)},
            )
        if (
            consultation.status == Status.PLANNED
            and participant.role != ParticipantRole.DOCTOR
            and participant.admitted_at is None
        ):
            Consultation.objects.filter(pk=consultation.pk, status=Status.PLANNED).update(
                status=Status.WAITING
            )
    participant.refresh_from_db()
    return participant


def gone(seat: Seat, *, left: bool) -> None:
    """A socket closed: the participant left (hung up), or dropped (a drop incident, kept)."""
    now = _now()
    participant = Participant.objects.get(pk=seat.participant.pk)
    with transaction.atomic():
        fields: dict[str, object] = {"online": False}
        if left:
            fields["left_at"] = now
        Participant.objects.filter(pk=participant.pk).update(**fields)
        in_call = (
            participant.in_room or participant.role == ParticipantRole.DOCTOR
        ) and Consultation.objects.filter(
            pk=seat.consultation.pk, status=Status.IN_PROGRESS
        ).exists()
        if in_call and not left:
            Incident.objects.create(
                consultation=seat.consultation,
                participant=participant,
                kind=IncidentKind.DROP,
                at=now,
            )


def report_quality(seat: Seat, level: str, detail: dict[str, float]) -> None:
    """What the participant's browser measured of its own line (getStats); telemetry, unaudited."""
    if level not in Quality.values:
        return
    Participant.objects.filter(pk=seat.participant.pk).update(
        quality=level, quality_detail=detail, quality_at=_now()
    )


# --- The room ------------------------------------------------------------------------------


def admit(
    seat: Seat, change: Change, participant_uuid: object, *, consent_required: bool = False
) -> Participant:
    """The doctor lets someone in; the act begins with the first one admitted.

    ``consent_required``: the patient is let in only once she (or the
    professional beside her) consented (HAS 2019); the room's socket asks
    it. Code that recorded the consent otherwise (a test, an import) may not.
    """
    target = (
        Participant.objects.filter(consultation=seat.consultation, uuid=str(participant_uuid))
        .exclude(role=ParticipantRole.DOCTOR)
        .first()
        if _is_uuid(participant_uuid)
        else None
    )
    if target is None or target.joined_at is None or target.left_at is not None:
        change.failed("not_waiting", participant=str(participant_uuid)[:40])
        raise RoomRuleBroken(_("Nobody by that name waits."))
    if not seat.consultation.is_open:
        change.failed("closed")
        raise RoomRuleBroken(_("This teleconsultation is over."))
    if (
        consent_required
        and target.role == ParticipantRole.PATIENT
        and not has_consent(seat.consultation)
    ):
        change.failed("no_consent")
        raise RoomRuleBroken(_("The patient has not consented to the teleconsultation yet."))
    now = _now()
    with transaction.atomic():
        Participant.objects.filter(pk=target.pk).update(admitted_at=now, admitted_by=seat.user)
        Consultation.objects.filter(
            pk=seat.consultation.pk, status__in=[Status.PLANNED, Status.WAITING]
        ).update(status=Status.IN_PROGRESS, started_at=now)
        change.done(admitted=str(target.uuid), role=target.role)
    target.refresh_from_db()
    return target


def _is_uuid(value: object) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def end(seat: Seat, change: Change) -> Consultation:
    """The doctor ends the call for everyone."""
    if not seat.consultation.is_open:
        change.failed("closed")
        raise RoomRuleBroken(_("This teleconsultation is over."))
    consultation = close(seat.consultation, seat.user)
    change.done(ended=True)
    return consultation


def close(consultation: Consultation, by: User | None) -> Consultation:
    """End an act (finished, everyone out); ``consultation_closed`` after the commit.

    Called by ``end`` (the doctor's button, decided by the policy) and by
    code that decided already (the acts slice's closing with a report).
    """
    now = _now()
    with transaction.atomic():
        changed = Consultation.objects.filter(
            pk=consultation.pk, status__in=[Status.PLANNED, Status.WAITING, Status.IN_PROGRESS]
        ).update(status=Status.FINISHED, ended_at=now, ended_by=by)
        Participant.objects.filter(consultation=consultation, left_at__isnull=True).update(
            left_at=now
        )
        Incident.objects.filter(consultation=consultation, ended_at__isnull=True).update(
            ended_at=now
        )
        if changed and consultation.appointment is not None:
            from maillage.agenda.actions import mark_fulfilled

            mark_fulfilled(consultation.appointment)
        if changed:
            transaction.on_commit(
                lambda: consultation_closed.send(
                    sender=Consultation, consultation=consultation, by=by
                )
            )
    consultation.refresh_from_db()
    return consultation


def cancel(seat: Seat, change: Change) -> None:
    if seat.consultation.status not in {Status.PLANNED, Status.WAITING}:
        change.failed("not_cancellable")
        raise RoomRuleBroken(_("Only a teleconsultation not yet begun is cancelled."))
    with transaction.atomic():
        Consultation.objects.filter(pk=seat.consultation.pk).update(
            status=Status.CANCELLED, ended_at=_now(), ended_by=seat.user
        )
        change.done(cancelled=True)


def record_incident(seat: Seat, change: Change, kind: str, detail: dict[str, object]) -> Incident:
    """An incident the browser saw (audio-only switch, video back, failure), kept with the act."""
    if kind not in IncidentKind.values:
        change.failed("bad_kind")
        raise RoomRuleBroken(_("Unknown incident."))
    with transaction.atomic():
        incident = Incident.objects.create(
            consultation=seat.consultation,
            participant=seat.participant,
            kind=kind,
            at=_now(),
            detail={
                "via": "browser",
                **{k: v for k, v in detail.items() if isinstance(v, str | int | float)},
            },
        )
        if kind == IncidentKind.AUDIO_ONLY and seat.consultation.modality == Modality.VIDEO:
            Consultation.objects.filter(pk=seat.consultation.pk).update(modality=Modality.AUDIO)
        change.done(incident=kind)
    return incident


def say(seat: Seat, change: Change, text: str) -> ChatMessage:
    text = text.strip()
    if not text or len(text) > MAX_CHAT:
        change.failed("bad_text")
        raise RoomRuleBroken(_("A chat message holds 1 to 2000 characters."))
    with transaction.atomic():
        message = ChatMessage.objects.create(
            consultation=seat.consultation, participant=seat.participant, at=_now(), text=text
        )
        change.done(chat=message.pk)
    return message


def share_file(seat: Seat, change: Change, data: bytes, name: str) -> SharedFile:
    """A participant shares a file in the room; sealed, not in the record (the doctor files it)."""
    try:
        storage.check(data, name)
    except storage.RejectedUpload as error:
        change.failed("rejected_file")
        raise RoomRuleBroken(error.message) from None
    stored = storage.store(data, name, by=seat.user)
    with transaction.atomic():
        shared = SharedFile.objects.create(
            consultation=seat.consultation,
            participant=seat.participant,
            file=stored,
            shared_at=_now(),
        )
        change.done(shared_file=str(shared.uuid))
    return shared


def file_shared(
    seat: Seat, change: Change, shared_uuid: object, doc_type: str, title: str
) -> Document:
    """The doctor files a shared file in the patient's record, through the record's gate."""
    from maillage.records import actions as records

    if seat.user is None or not seat.is_doctor:
        change.failed("not_doctor")
        raise RoomRuleBroken(_("Only the doctor files a document in the record."))
    shared = (
        SharedFile.objects.filter(consultation=seat.consultation, uuid=str(shared_uuid))
        .select_related("file")
        .first()
        if _is_uuid(shared_uuid)
        else None
    )
    if shared is None or shared.document_id is not None:
        change.failed("not_shared")
        raise RoomRuleBroken(_("This file is not shared here, or is filed already."))
    try:
        document = records.file_document(
            seat.user,
            seat.patient,
            records.NewDocument(
                type=doc_type, title=title or shared.file.original_name, date=_now().date()
            ),
            files=[shared.file],
        )
    except PatientNotFound:
        change.failed("record_refused")
        raise RoomRuleBroken(_("The record refuses this document from you.")) from None
    except records.RecordRuleBroken as error:
        change.failed("record_rule")
        raise RoomRuleBroken(error.message) from None
    # The record's own entry (DOCUMENT_CREATE, granted) says what was done:
    # one write, one entry; ``change`` is closed only by a refusal above.
    SharedFile.objects.filter(pk=shared.pk).update(document=document, filed_at=_now())
    return document
