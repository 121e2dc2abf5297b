"""Teleconsultation in the one policy: who has a seat in an act, and what a seat opens.

A consultation brings people to a patient: its doctor, the patient, and the
third parties invited to it (``teleconsult.models.Participant``). For a
professional with an account that is ``Relation.TELECONSULTATION``
(``participating`` is its computation, for ``relations_to`` and
``relation_q`` alike): while the act is planned or under way, and for
``MAILLAGE_TELECONSULT_ACCESS_DAYS`` after it ended. The patient comes in by
``SELF``. The table says which roles it opens TELECONSULT_READ,
TELECONSULT_WRITE and TELECONSULT_SIGNAL to; then, since a patient may have
several acts, each opening checks that *this* act is the user's (rule
``not_participant``), that the room is entered only once admitted
(``not_admitted``), that a closed act's room stays closed (``closed``) and
that only its doctor admits, invites and ends (``not_doctor``).

A guest has no account: the single-use invitation she redeemed put her seat
in her session (``Visitor.guest``). Her seat is decided here too, by the
same rules past the relation (her place stands for it), and audited on the
patient with no actor and the guest's name and role in the detail.

Every opening leaves one audit entry. Two kinds of traffic are decided
without one each, on purpose: a signalling frame relayed between two
admitted participants (SDP and ICE candidates, many a second, no health
data; each relay asks ``relay_target``, and a refused one *is* audited),
and the connection quality a browser reports about itself.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from maillage.audit.actions import Event, record, record_many
from maillage.audit.models import Action, Outcome
from maillage.policy.decide import Decision, Subject, decide
from maillage.policy.gate import audit_decision
from maillage.policy.relations import Relation
from maillage.teleconsult.models import (
    OPEN_STATUSES,
    ChatMessage,
    Consultation,
    Participant,
    ParticipantRole,
    SharedFile,
    Status,
)

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.patients.models import Patient

NOT_PARTICIPANT = "not_participant"
NOT_ADMITTED = "not_admitted"
NOT_DOCTOR = "not_doctor"
NOT_ASSISTANT = "not_assistant"
CLOSED = "closed"
# More open acts than this on a doctor's page is not one day's work.
LISTED = 50
# The basis written for a guest's seat: her redeemed invitation.
GUEST_BASIS = "teleconsult_guest"


class ConsultationNotFound(Http404):
    """A missing consultation and a refused one look the same."""


@dataclass(frozen=True)
class Visitor:
    """Who knocks: an account, or a guest whose session holds her seat's id."""

    user: User | None = None
    guest: uuid.UUID | None = None

    @property
    def label(self) -> str:
        return self.user.display_name if self.user is not None else "guest"


def access_days() -> dt.timedelta:
    return dt.timedelta(days=float(getattr(settings, "MAILLAGE_TELECONSULT_ACCESS_DAYS", 30)))


def participating(user: User) -> QuerySet[Consultation]:
    """The acts the user has a place in now: the relation TELECONSULTATION, as rows."""
    since = timezone.now() - access_days()
    places = Participant.objects.filter(user_id=user.pk).values("consultation_id")
    return Consultation.objects.filter(pk__in=places).filter(
        Q(status__in=OPEN_STATUSES) | Q(ended_at__gt=since)
    )


@dataclass(frozen=True)
class Seat:
    """One participant's place in one act, as the policy handed it out."""

    consultation: Consultation
    participant: Participant
    visitor: Visitor

    @property
    def patient(self) -> Patient:
        return self.consultation.patient

    @property
    def user(self) -> User | None:
        return self.visitor.user

    @property
    def is_doctor(self) -> bool:
        return self.participant.role == ParticipantRole.DOCTOR


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def load(consultation_uuid: object) -> Consultation | None:
    if not _is_uuid(consultation_uuid):
        return None
    return (
        Consultation.objects.select_related("patient", "doctor", "patient__treating_doctor")
        .filter(uuid=uuid.UUID(str(consultation_uuid)))
        .first()
    )


def _place(visitor: Visitor, consultation: Consultation) -> Participant | None:
    places = Participant.objects.filter(consultation=consultation).select_related("user")
    if visitor.user is not None:
        return places.filter(user_id=visitor.user.pk).first()
    if visitor.guest is not None:
        return places.filter(uuid=visitor.guest, user__isnull=True).first()
    return None


def as_guest(visitor: Visitor, consultation: Consultation) -> Visitor:
    """An account with no place in this act but a guest seat in its session comes as the guest.

    (A professional of the patient's house opening the link she was sent.)
    """
    if visitor.user is None or visitor.guest is None:
        return visitor
    if Participant.objects.filter(consultation=consultation, user_id=visitor.user.pk).exists():
        return Visitor(user=visitor.user)
    return Visitor(guest=visitor.guest)


def _seat_rule(
    consultation: Consultation,
    place: Participant,
    *,
    admitted: bool,
    doctor_only: bool,
    assistant_only: bool = False,
    or_doctor: bool = False,
) -> str | None:
    """The rules past the relation, the same for an account and a guest."""
    if doctor_only and place.role != ParticipantRole.DOCTOR:
        return NOT_DOCTOR
    # Readings are taken by the professional beside the patient, with her account
    # (a still of the patient's video by the act's doctor too: ``or_doctor``).
    takes = place.role == ParticipantRole.ASSISTANT or (
        or_doctor and place.role == ParticipantRole.DOCTOR
    )
    if assistant_only and (not takes or place.user_id is None):
        return NOT_ASSISTANT
    if not admitted:
        return None
    if not consultation.is_open:
        return CLOSED
    # The doctor is in the room as soon as she opens it; the others once admitted.
    if place.role != ParticipantRole.DOCTOR and (
        consultation.status != Status.IN_PROGRESS or not place.in_room
    ):
        return NOT_ADMITTED
    return None


def _audit(
    visitor: Visitor,
    consultation: Consultation,
    decision: Decision,
    outcome: str,
    detail: Mapping[str, Any],
) -> None:
    if visitor.user is not None:
        audit_decision(visitor.user, consultation.patient, decision, outcome=outcome, detail=detail)
        return
    extra = dict(detail)
    if outcome == Outcome.DENIED:
        extra["rule"] = decision.rule
    record(
        None,
        Event(
            action=decision.purpose,
            outcome=outcome,
            patient=consultation.patient,
            basis=GUEST_BASIS if outcome != Outcome.DENIED else "",
            detail=extra,
        ),
    )


def _decide(
    visitor: Visitor,
    consultation: Consultation,
    purpose: str,
    *,
    admitted: bool,
    doctor_only: bool,
    assistant_only: bool = False,
    or_doctor: bool = False,
) -> tuple[Decision, Participant | None]:
    place = _place(visitor, consultation)
    if visitor.user is not None:
        decision = decide(Subject.of(visitor.user, consultation.patient), purpose)
        if not decision.granted:
            return decision, None
    elif place is None or visitor.guest is None:
        return Decision(purpose, None, NOT_PARTICIPANT), None
    else:
        decision = Decision(purpose, None, "by_relation")
    if place is None:
        return Decision(purpose, None, NOT_PARTICIPANT), None
    refused = _seat_rule(
        consultation,
        place,
        admitted=admitted,
        doctor_only=doctor_only,
        assistant_only=assistant_only,
        or_doctor=or_doctor,
    )
    if refused is not None:
        return Decision(purpose, None, refused), None
    return decision, place


def _details(
    consultation_uuid: object, visitor: Visitor, detail: Mapping[str, Any] | None
) -> dict[str, Any]:
    out: dict[str, Any] = {"consultation": str(consultation_uuid), **(detail or {})}
    if visitor.user is None and visitor.guest is not None:
        out["guest"] = str(visitor.guest)
    return out


def _refuse_unknown(visitor: Visitor, purpose: str, consultation_uuid: object) -> None:
    record(
        visitor.user,
        Event(
            action=purpose, outcome=Outcome.DENIED, detail={"unknown_id": str(consultation_uuid)}
        ),
    )


def take_seat(
    visitor: Visitor,
    consultation_uuid: object,
    purpose: str = Action.TELECONSULT_READ,
    *,
    admitted: bool = False,
    doctor_only: bool = False,
    detail: Mapping[str, Any] | None = None,
) -> Seat:
    """An act through the policy, the opening audited; ConsultationNotFound if refused.

    ``admitted``: the room itself (the doctor, or a participant admitted and
    not gone, while the act is under way); otherwise the waiting room or the
    act's page. ``doctor_only``: what only the act's doctor does.
    """
    consultation = load(consultation_uuid)
    if consultation is None:
        _refuse_unknown(visitor, purpose, consultation_uuid)
        raise ConsultationNotFound
    visitor = as_guest(visitor, consultation)
    decision, place = _decide(
        visitor, consultation, purpose, admitted=admitted, doctor_only=doctor_only
    )
    granted = place is not None
    _audit(
        visitor,
        consultation,
        decision,
        Outcome.GRANTED if granted else Outcome.DENIED,
        _details(consultation.uuid, visitor, detail),
    )
    if place is None:
        raise ConsultationNotFound
    return Seat(consultation, place, visitor)


@dataclass
class Change:
    """A change to an act the policy allowed; the action says how it ended, exactly once."""

    seat: Seat
    purpose: str
    detail: dict[str, Any]
    _closed: bool = False

    def done(self, **more: Any) -> None:
        self._close(Outcome.GRANTED, more)

    def failed(self, failure: str, **more: Any) -> None:
        self._close(Outcome.FAILED, {"failure": failure, **more})

    def _close(self, outcome: str, more: Mapping[str, Any]) -> None:
        if self._closed:
            return
        self._closed = True
        relation = None
        if self.seat.user is not None:
            relation = decide(Subject.of(self.seat.user, self.seat.patient), self.purpose).relation
        _audit(
            self.seat.visitor,
            self.seat.consultation,
            Decision(self.purpose, relation, "by_relation"),
            outcome,
            {**self.detail, **more},
        )


def seat_for_change(
    visitor: Visitor,
    consultation_uuid: object,
    *,
    admitted: bool = False,
    doctor_only: bool = False,
    detail: Mapping[str, Any] | None = None,
) -> tuple[Seat, Change]:
    """An act opened for a change (TELECONSULT_WRITE); a refusal is audited now."""
    purpose = Action.TELECONSULT_WRITE
    consultation = load(consultation_uuid)
    if consultation is None:
        _refuse_unknown(visitor, purpose, consultation_uuid)
        raise ConsultationNotFound
    visitor = as_guest(visitor, consultation)
    full = _details(consultation.uuid, visitor, detail)
    decision, place = _decide(
        visitor, consultation, purpose, admitted=admitted, doctor_only=doctor_only
    )
    if place is None:
        _audit(visitor, consultation, decision, Outcome.DENIED, full)
        raise ConsultationNotFound
    seat = Seat(consultation, place, visitor)
    return seat, Change(seat, purpose, full)


def seat_for_reading(
    visitor: Visitor,
    consultation_uuid: object,
    *,
    detail: Mapping[str, Any] | None = None,
    or_doctor: bool = False,
) -> Seat:
    """The assisting professional's seat, in the room, to send a reading of the patient.

    Only the participant of role ``assistant`` with an account (the readings
    name her as performer), admitted to this act while it is under way; with
    ``or_doctor``, the act's doctor in her room too (a still she captures of
    the patient's video, a file she imports). A
    refusal is audited now and raises ConsultationNotFound. A grant is not
    audited here: the reading's write (``measurements.actions``, through
    ``policy.measurements``) leaves the one entry of the write.
    """
    purpose = Action.OBSERVATION_WRITE
    consultation = load(consultation_uuid)
    if consultation is None:
        _refuse_unknown(visitor, purpose, consultation_uuid)
        raise ConsultationNotFound
    visitor = as_guest(visitor, consultation)
    decision, place = _decide(
        visitor,
        consultation,
        purpose,
        admitted=True,
        doctor_only=False,
        assistant_only=True,
        or_doctor=or_doctor,
    )
    if place is None or visitor.user is None:
        full = _details(consultation.uuid, visitor, detail)
        _audit(visitor, consultation, decision, Outcome.DENIED, full)
        raise ConsultationNotFound
    return Seat(consultation, place, visitor)


def assistants(seat: Seat) -> list[Participant]:
    """The act's assisting professionals, for a participant of it (her seat was decided)."""
    return list(
        Participant.objects.filter(
            consultation_id=seat.consultation.pk, role=ParticipantRole.ASSISTANT
        ).select_related("user")
    )


def may_open(user: User, patient: Patient) -> bool:
    """Unaudited, to offer the control; ``actions.open_consultation`` decides again."""
    return decide(Subject.of(user, patient), Action.TELECONSULT_OPEN).granted


def relay_target(
    seat: Seat, receiver_uuid: object, kinds: Collection[str] = ()
) -> Participant | None:
    """The participant a signalling frame may go to, or None (the refusal audited).

    Both ends must be in this act's room now: admitted (the doctor always),
    not gone, the act under way. Asked for each frame relayed.
    """
    receiver = None
    if _is_uuid(receiver_uuid):
        receiver = (
            Participant.objects.filter(
                uuid=uuid.UUID(str(receiver_uuid)),
                consultation_id=seat.consultation.pk,
                consultation__status=Status.IN_PROGRESS,
                left_at__isnull=True,
            )
            .filter(Q(admitted_at__isnull=False) | Q(role=ParticipantRole.DOCTOR))
            .first()
        )
    sender_in = Participant.objects.filter(
        pk=seat.participant.pk,
        left_at__isnull=True,
        consultation__status=Status.IN_PROGRESS,
    ).filter(Q(admitted_at__isnull=False) | Q(role=ParticipantRole.DOCTOR))
    if receiver is not None and receiver.pk != seat.participant.pk and sender_in.exists():
        return receiver
    _audit(
        seat.visitor,
        seat.consultation,
        Decision(Action.TELECONSULT_SIGNAL, None, NOT_ADMITTED if receiver else NOT_PARTICIPANT),
        Outcome.DENIED,
        _details(seat.consultation.uuid, seat.visitor, {"to": str(receiver_uuid)[:40]}),
    )
    return None


def in_room(seat: Seat) -> list[Participant]:
    """The others in the room now, for a seat that is in it."""
    return list(
        Participant.objects.filter(
            consultation_id=seat.consultation.pk, left_at__isnull=True, online=True
        )
        .filter(Q(admitted_at__isnull=False) | Q(role=ParticipantRole.DOCTOR))
        .exclude(pk=seat.participant.pk)
    )


def waiting(seat: Seat) -> list[Participant]:
    """Who waits to be admitted, for the act's doctor (the caller's seat is the doctor's)."""
    if not seat.is_doctor:
        return []
    return list(
        Participant.objects.filter(
            consultation_id=seat.consultation.pk,
            admitted_at__isnull=True,
            joined_at__isnull=False,
            left_at__isnull=True,
            online=True,
        )
        .exclude(role=ParticipantRole.DOCTOR)
        .order_by("joined_at")
    )


def shows_patient(user: User, consultation: Consultation) -> bool:
    """May the user read this act now (so see whom it is about)? Decided, not audited: the
    caller audits the patients it shows. The same decision as ``take_seat``'s for a read."""
    _decision, place = _decide(
        Visitor(user=user),
        consultation,
        Action.TELECONSULT_READ,
        admitted=False,
        doctor_only=False,
    )
    return place is not None


def doctors_open_acts(user: User) -> list[Consultation]:
    """The open acts of which the user is the doctor or the professional beside the patient
    (a nurse's or pharmacist's coming assisted visits), each patient shown decided and audited.

    Having a place in the act is not enough: the patient may have opposed her
    since it was planned (or the act outlived the relation). Each patient is
    decided as a read of the act would be (``shows_patient``); one refused
    is left out of the list, unaudited, as the other lists do.
    """
    acts = list(
        Consultation.objects.filter(
            status__in=OPEN_STATUSES,
            participants__user_id=user.pk,
            participants__role__in=(ParticipantRole.DOCTOR, ParticipantRole.ASSISTANT),
        )
        .select_related("patient")
        .order_by("planned_start", "created_at")[:LISTED]
    )
    shown = [c for c in acts if shows_patient(user, c)]
    record_many(
        user,
        [
            Event(
                action=Action.TELECONSULT_READ,
                patient=c.patient,
                basis=Relation.TELECONSULTATION,
                detail={"consultation": str(c.uuid), "listed": True},
            )
            for c in shown
        ],
    )
    return shown


def still_seated(seat: Seat) -> bool:
    """Asked at each heartbeat: the act is open, or the socket closes."""
    return Consultation.objects.filter(pk=seat.consultation.pk, status__in=OPEN_STATUSES).exists()


def fresh(seat: Seat) -> Seat:
    """The same seat with its rows read again (admitted meanwhile, act started)."""
    return Seat(
        Consultation.objects.select_related("patient", "doctor").get(pk=seat.consultation.pk),
        Participant.objects.select_related("user").get(pk=seat.participant.pk),
        seat.visitor,
    )


def shared_files(seat: Seat) -> list[SharedFile]:
    """The files shared in the act, for a participant in its room (the page's read is audited)."""
    return list(
        SharedFile.objects.filter(consultation_id=seat.consultation.pk)
        .select_related("file", "participant", "document")
        .order_by("shared_at")
    )


def shared_file(seat: Seat, shared_uuid: object) -> SharedFile | None:
    if not _is_uuid(shared_uuid):
        return None
    return (
        SharedFile.objects.filter(consultation_id=seat.consultation.pk, uuid=str(shared_uuid))
        .select_related("file", "participant")
        .first()
    )


def chat_history(seat: Seat) -> list[ChatMessage]:
    return list(
        ChatMessage.objects.filter(consultation_id=seat.consultation.pk)
        .select_related("participant")
        .order_by("at", "pk")[:200]
    )


def own_acts(user: User) -> list[Consultation]:
    """A patient's own acts still open, each audited as her read (SELF)."""
    shown = list(
        Consultation.objects.filter(patient__user_id=user.pk, status__in=OPEN_STATUSES)
        .select_related("patient", "doctor")
        .order_by("planned_start", "created_at")[:LISTED]
    )
    record_many(
        user,
        [
            Event(
                action=Action.TELECONSULT_READ,
                patient=c.patient,
                basis=Relation.SELF,
                detail={"consultation": str(c.uuid), "listed": True},
            )
            for c in shown
        ],
    )
    return shown


def encounter_view(seat: Seat) -> tuple[list[Participant], dict[int, object]]:
    """What the act's Encounter shows of it: its participants but the patient, and their
    Practitioner ids (directory entries of the accounts among them)."""
    from maillage.directory.models import Professional

    places = list(
        Participant.objects.filter(consultation_id=seat.consultation.pk)
        .exclude(role=ParticipantRole.PATIENT)
        .order_by("invited_at", "pk")
    )
    users = [p.user_id for p in places if p.user_id]
    practitioners: dict[int, object] = {
        user_id: pro_uuid
        for user_id, pro_uuid in Professional.objects.filter(user_id__in=users).values_list(
            "user_id", "uuid"
        )
    }
    return places, practitioners


def fhir_acts(user: User) -> QuerySet[Consultation]:
    """The acts a FHIR search may list for the user: those she has a place in (her own too)."""
    places = Participant.objects.filter(user_id=user.pk).values("consultation_id")
    return Consultation.objects.filter(pk__in=places).select_related("patient", "appointment")
