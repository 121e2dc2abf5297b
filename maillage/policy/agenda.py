"""Appointments in the one policy: who takes part in one, and who may book for whom, where.

An appointment brings people to a patient: its professional, the staff and
professionals of its structure (the MSP's secretary manages the house's
agendas; the pharmacist of a teleconsultation point welcomes the patient)
and whoever booked it (a regulator orienting a request), from its booking to
``MAILLAGE_AGENDA_ACCESS_DAYS`` after its end. That is
``Relation.APPOINTMENT`` (``participating`` computes it for ``relations_to``
and ``relation_q`` alike). The table says which roles it opens
APPOINTMENT_READ, APPOINTMENT_WRITE and APPOINTMENT_RECEIVE to; since a
patient may have several appointments, each opening also checks that *this*
appointment is the user's (rule ``not_participant``), as
``policy.expertise`` does for a request. The patient reads and changes her
own by the relation SELF.

Booking is APPOINTMENT_BOOK on the patient (the table: herself, a
professional who follows her, a secretary of a structure that follows her, a
regulator with an open case), and then the agenda must be one the user may
book in (rule ``agenda``): anyone allowed books in an open agenda, but a
secretary books only in the agendas of her structures.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from maillage.accounts.models import Role
from maillage.agenda.models import Appointment, Schedule
from maillage.audit.actions import Event, record_many
from maillage.audit.models import Action, Outcome
from maillage.directory.queries import structures_of, works_at_q
from maillage.policy import listing
from maillage.policy.consents import record_state
from maillage.policy.decide import Decision, Subject, decide
from maillage.policy.gate import Grant, audit_decision, load_patient
from maillage.policy.relations import Relation, professional_id_of
from maillage.policy.table import allowed_relations

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.patients.models import Patient

NOT_PARTICIPANT = "not_participant"
# A secretary asked to book in an agenda that is not her structure's.
NOT_HER_AGENDA = "agenda"


class AppointmentNotFound(Http404):
    """A missing appointment and a refused one look the same."""


def access_days() -> dt.timedelta:
    return dt.timedelta(days=float(settings.MAILLAGE_AGENDA_ACCESS_DAYS))


def participating(user: User) -> QuerySet[Appointment]:
    """The appointments the user takes part in now: the relation APPOINTMENT, as rows."""
    since = timezone.now() - access_days()
    q = Q(booked_by_id=user.pk)
    professional_id = professional_id_of(user)
    if professional_id is not None:
        q |= Q(professional_id=professional_id)
    q |= works_at_q(user, "structure_id")
    return Appointment.objects.filter(q, end__gt=since)


def takes_part(user: User, appointment: Appointment) -> bool:
    """Does the user take part in this appointment now (as ``participating`` says)?"""
    if appointment.patient.user_id is not None and appointment.patient.user_id == user.pk:
        return True
    if appointment.end <= timezone.now() - access_days():
        return False
    if appointment.booked_by_id == user.pk:
        return True
    if appointment.professional_id == professional_id_of(user):
        return True
    return (
        appointment.structure_id is not None
        and structures_of(user).filter(pk=appointment.structure_id).exists()
    )


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _load(appointment_uuid: object) -> Appointment | None:
    if not _is_uuid(appointment_uuid):
        return None
    return (
        Appointment.objects.select_related(
            "patient", "patient__user", "professional", "structure", "slot", "booked_by"
        )
        .filter(uuid=uuid.UUID(str(appointment_uuid)))
        .first()
    )


def _decide(user: User, appointment: Appointment, purpose: str) -> tuple[Subject, Decision]:
    subject = Subject.of(user, appointment.patient)
    decision = decide(subject, purpose)
    if decision.granted and not takes_part(user, appointment):
        decision = Decision(purpose, None, NOT_PARTICIPANT)
    return subject, decision


def _refuse_unknown(user: User, purpose: str, value: object) -> None:
    record_many(
        user, [Event(action=purpose, outcome=Outcome.DENIED, detail={"unknown_id": str(value)})]
    )


@dataclass
class AppointmentAccess:
    subject: Subject
    appointment: Appointment

    @property
    def user(self) -> User:
        return self.subject.user

    @property
    def patient(self) -> Patient:
        return self.subject.patient

    @property
    def is_patient(self) -> bool:
        return self.appointment.patient.user_id == self.user.pk


def open_appointment(
    user: User,
    appointment_uuid: object,
    purpose: str = Action.APPOINTMENT_READ,
    *,
    detail: Mapping[str, Any] | None = None,
) -> AppointmentAccess:
    """An appointment through the policy, its read audited; AppointmentNotFound if refused."""
    appointment = _load(appointment_uuid)
    if appointment is None:
        _refuse_unknown(user, purpose, appointment_uuid)
        raise AppointmentNotFound
    subject, decision = _decide(user, appointment, purpose)
    audit_decision(
        user,
        appointment.patient,
        decision,
        detail={"appointment": str(appointment.uuid), **(detail or {})},
    )
    if not decision.granted:
        raise AppointmentNotFound
    return AppointmentAccess(subject, appointment)


@dataclass
class PeekedAppointment:
    """An appointment opened for a change whose action writes the audit entry (one per call).

    Only a refusal is audited when peeking; if no action follows (nothing
    changed, or the change was refused before any action), ``audit`` writes
    the opening, so that the call still leaves exactly one entry.
    """

    access: AppointmentAccess
    decision: Decision

    def audit(self, **detail: Any) -> None:
        audit_decision(
            self.access.user,
            self.access.patient,
            self.decision,
            detail={"appointment": str(self.access.appointment.uuid), **detail},
        )


def peek_appointment(
    user: User, appointment_uuid: object, *, detail: Mapping[str, Any] | None = None
) -> PeekedAppointment:
    """As ``open_appointment``, for a caller that goes on to one action (the action audits)."""
    purpose = Action.APPOINTMENT_READ
    appointment = _load(appointment_uuid)
    if appointment is None:
        _refuse_unknown(user, purpose, appointment_uuid)
        raise AppointmentNotFound
    subject, decision = _decide(user, appointment, purpose)
    if not decision.granted:
        audit_decision(
            user,
            appointment.patient,
            decision,
            detail={"appointment": str(appointment.uuid), **(detail or {})},
        )
        raise AppointmentNotFound
    return PeekedAppointment(AppointmentAccess(subject, appointment), decision)


def appointment_for_change(
    user: User, appointment_uuid: object, *, detail: Mapping[str, Any] | None = None
) -> tuple[AppointmentAccess, Grant]:
    """An appointment opened for a change; the action closes the grant (one entry)."""
    purpose = Action.APPOINTMENT_WRITE
    appointment = _load(appointment_uuid)
    full = {"appointment": str(appointment_uuid), **(detail or {})}
    if appointment is None:
        _refuse_unknown(user, purpose, appointment_uuid)
        raise AppointmentNotFound
    subject, decision = _decide(user, appointment, purpose)
    if not decision.granted:
        audit_decision(user, appointment.patient, decision, detail=full)
        raise AppointmentNotFound
    return AppointmentAccess(subject, appointment), Grant(user, appointment.patient, decision, full)


def may_book_in(user: User, schedule: Schedule) -> bool:
    """The agenda rule of booking: a secretary books in her structures' agendas only."""
    if not schedule.active:
        return False
    if user.role == Role.COORDINATOR:
        return schedule.structure_id is not None and (
            structures_of(user).filter(pk=schedule.structure_id).exists()
        )
    return True


def authorize_booking(
    user: User,
    patient_uuid: object,
    schedule: Schedule,
    *,
    detail: Mapping[str, Any] | None = None,
) -> Grant:
    """Decide a booking for a patient in an agenda; a refusal is audited now, a grant on close.

    Raises AppointmentNotFound (a 404 that tells nothing) when refused.
    """
    purpose = Action.APPOINTMENT_BOOK
    patient = load_patient(patient_uuid)
    full = {"schedule": str(schedule.uuid), **(detail or {})}
    if patient is None:
        _refuse_unknown(user, purpose, patient_uuid)
        raise AppointmentNotFound
    decision = decide(Subject.of(user, patient), purpose)
    if decision.granted and not may_book_in(user, schedule):
        decision = Decision(purpose, None, NOT_HER_AGENDA)
    if not decision.granted:
        audit_decision(user, patient, decision, detail=full)
        raise AppointmentNotFound
    return Grant(user, patient, decision, full)


def shows_patient(user: User, appointment: Appointment) -> bool:
    """May the user read this appointment now (so see whom it is about)? Decided, not audited:
    the caller audits the patients it shows (``audit_listed``)."""
    subject = Subject.of(user, appointment.patient)
    return decide(subject, Action.APPOINTMENT_READ).granted and takes_part(user, appointment)


def audit_listed(user: User, appointments: Sequence[Appointment]) -> None:
    """An agenda names patients: one read entry per patient shown."""
    listing.audit_listed(user, appointments, Action.APPOINTMENT_READ, Relation.APPOINTMENT)


def receiver_allowed(sender: User | None, receiver: User, appointment: Appointment) -> bool:
    """Decide one receiver of a notice of this appointment (APPOINTMENT_RECEIVE), audited.

    The entry is written on the receiver's account (what they were sent), as
    a read would be, granted or refused by its rule.
    """
    subject = Subject.of(receiver, appointment.patient, record_state(appointment.patient))
    decision = decide(subject, Action.APPOINTMENT_RECEIVE)
    if decision.granted and not takes_part(receiver, appointment):
        decision = Decision(Action.APPOINTMENT_RECEIVE, None, NOT_PARTICIPANT)
    audit_decision(
        receiver,
        appointment.patient,
        decision,
        detail={
            "appointment": str(appointment.uuid),
            **({"sender": f"user:{sender.pk}"} if sender is not None else {}),
        },
    )
    return decision.granted


def visible_appointments(user: User) -> QuerySet[Appointment]:
    """The appointments a user may list: her own for a patient, those she takes part in otherwise.

    Each one shown is still opened (``open_appointment``, audited) by the caller.
    """
    if user.role == Role.PATIENT:
        return Appointment.objects.filter(patient__user_id=user.pk)
    return participating(user)


def may_book(user: User) -> bool:
    """Whether the user's role books appointments at all (to offer the pages)."""
    return bool(allowed_relations(user, Action.APPOINTMENT_BOOK))
