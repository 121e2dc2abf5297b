"""What people do with agendas and appointments: book, cancel, move, record a no-show.

Every step about a patient is decided by the one policy (``policy.agenda``)
and leaves exactly one audit entry: granted and done, refused by its rule,
or failed (the slot was taken meanwhile, the modality is not offered...).
Booking takes the slot by one conditional UPDATE (free → busy) inside the
transaction that creates the appointment: of several bookings of a slot at
once, exactly one changes the row; the partial unique constraint on the
appointment's slot is the database's second guard. The other side is told
by notices queued in the same transaction (``agenda.notify``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.accounts.models import Role
from maillage.agenda import notify
from maillage.agenda.models import (
    Appointment,
    AppointmentStatus,
    Modality,
    Slot,
    SlotStatus,
    accepts,
)
from maillage.policy import agenda as policy

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.policy.gate import Grant

REASON_MAX = 300


class BookingRefused(Exception):
    """A step refused for a reason the person can fix; ``message`` is in their language."""

    def __init__(self, message: str, failure: str = "refused", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.failure = failure
        self.field = field


class SlotNotFound(policy.AppointmentNotFound):
    """No such slot (or not one this user may see)."""


@dataclass(frozen=True)
class Booking:
    slot_uuid: object
    patient_uuid: object
    modality: str
    reason: str


@contextmanager
def _changing(grant: Grant) -> Iterator[None]:
    """The step's transaction; a step refused inside it is audited after the rollback."""
    try:
        with transaction.atomic():
            yield
    except BookingRefused as refused:
        grant.failed(refused.failure)
        raise
    except IntegrityError:
        grant.failed("slot_taken")
        raise BookingRefused(
            _("This slot was just booked by someone else."), "slot_taken"
        ) from None


def load_slot(slot_uuid: object) -> Slot:
    try:
        key = uuid.UUID(str(slot_uuid))
    except ValueError:
        raise SlotNotFound from None
    slot = (
        Slot.objects.select_related("schedule__professional", "schedule__structure")
        .filter(uuid=key)
        .first()
    )
    if slot is None:
        raise SlotNotFound
    return slot


def _check(user: User, slot: Slot, modality: str, reason: str, now: dt.datetime) -> None:
    """What a booking must satisfy besides the policy; raises BookingRefused (nothing written)."""
    if modality not in Modality.values:
        raise BookingRefused(_("Choose in person or remote."), "modality", "modality")
    if not accepts(slot.modality, modality):
        raise BookingRefused(
            _("This slot is not offered for this modality."), "modality_not_offered", "modality"
        )
    if not reason.strip():
        raise BookingRefused(_("Give the reason for the appointment."), "no_reason", "reason")
    if len(reason) > REASON_MAX:
        raise BookingRefused(
            _("The reason is too long (300 characters at most)."), "reason_too_long", "reason"
        )
    notice = dt.timedelta(minutes=slot.schedule.min_notice_minutes)
    earliest = now + notice if user.role == Role.PATIENT else now
    if slot.start <= earliest:
        raise BookingRefused(_("This slot is too close or already past."), "too_late")
    if slot.status != SlotStatus.FREE:
        raise BookingRefused(_("This slot was just booked by someone else."), "slot_taken")


def _take(slot: Slot, now: dt.datetime) -> None:
    taken = Slot.objects.filter(pk=slot.pk, status=SlotStatus.FREE).update(
        status=SlotStatus.BUSY, updated_at=now
    )
    if taken != 1:
        raise BookingRefused(_("This slot was just booked by someone else."), "slot_taken")


def _free(slot_id: int | None, now: dt.datetime) -> None:
    """A cancelled appointment's slot is free again (if it is still ahead)."""
    if slot_id is not None:
        Slot.objects.filter(pk=slot_id, status=SlotStatus.BUSY, start__gt=now).update(
            status=SlotStatus.FREE, updated_at=now
        )


def book(user: User, booking: Booking, *, detail: Mapping[str, Any] | None = None) -> Appointment:
    """Book a free slot for a patient; of several bookings of one slot at once, one wins.

    ``detail``: what the caller adds to the entry (on whose behalf, the
    patient's recorded choice that led to it).
    """
    slot = load_slot(booking.slot_uuid)
    grant = policy.authorize_booking(
        user, booking.patient_uuid, slot.schedule, detail={"slot": str(slot.uuid), **(detail or {})}
    )
    now = timezone.now()
    reason = booking.reason.strip()
    try:
        _check(user, slot, booking.modality, reason, now)
    except BookingRefused as refused:
        grant.failed(refused.failure)
        raise
    with _changing(grant):
        _take(slot, now)
        appointment = Appointment.objects.create(
            patient=grant.patient,
            professional=slot.schedule.professional,
            structure=slot.schedule.structure,
            slot=slot,
            start=slot.start,
            end=slot.end,
            modality=booking.modality,
            reason=reason,
            booked_by=user,
        )
        grant.done(appointment=str(appointment.uuid), modality=booking.modality)
        notify.booked(appointment, by=user)
    return appointment


def cancel(user: User, appointment_uuid: object, reason: str = "") -> Appointment:
    """Cancel a booked appointment before it starts: its slot is free, the other side told."""
    access, grant = policy.appointment_for_change(user, appointment_uuid, detail={"step": "cancel"})
    appointment = access.appointment
    now = timezone.now()
    with _changing(grant):
        _cancel_row(appointment, user, reason, now)
        grant.done()
        notify.cancelled(appointment, by=user)
    return appointment


def _cancel_row(appointment: Appointment, user: User, reason: str, now: dt.datetime) -> None:
    if appointment.start <= now:
        raise BookingRefused(_("An appointment that has begun cannot be cancelled."), "started")
    changed = Appointment.objects.filter(pk=appointment.pk, status=AppointmentStatus.BOOKED).update(
        status=AppointmentStatus.CANCELLED,
        cancelled_by=user,
        cancelled_at=now,
        cancel_reason=reason.strip()[:REASON_MAX],
        version=F("version") + 1,
        updated_at=now,
    )
    if changed != 1:
        raise BookingRefused(_("This appointment is no longer booked."), "not_booked")
    _free(appointment.slot_id, now)
    appointment.refresh_from_db()


def move(user: User, appointment_uuid: object, slot_uuid: object) -> Appointment:
    """Move an appointment to another free slot of the same professional, in one transaction.

    The new appointment keeps the patient, the modality and the reason; the
    old one is cancelled (its slot freed) and linked as ``moved_from``.
    """
    access, grant = policy.appointment_for_change(
        user, appointment_uuid, detail={"step": "move", "slot": str(slot_uuid)}
    )
    old = access.appointment
    slot = load_slot(slot_uuid)
    now = timezone.now()
    with _changing(grant):
        if slot.schedule.professional_id != old.professional_id:
            raise BookingRefused(
                _("An appointment moves within the same professional's agenda."), "other_agenda"
            )
        if not policy.may_book_in(user, slot.schedule):
            raise BookingRefused(_("You do not manage this agenda."), "agenda")
        _check(user, slot, old.modality, old.reason, now)
        _cancel_row(old, user, _("moved"), now)
        _take(slot, now)
        new = Appointment.objects.create(
            patient=old.patient,
            professional=old.professional,
            structure=slot.schedule.structure,
            slot=slot,
            start=slot.start,
            end=slot.end,
            modality=old.modality,
            reason=old.reason,
            booked_by=user,
            moved_from=old,
        )
        grant.done(moved_to=str(new.uuid))
        notify.moved(old, new, by=user)
    return new


def record_noshow(user: User, appointment_uuid: object) -> Appointment:
    """The professional's side records that the patient did not come (after the start)."""
    access, grant = policy.appointment_for_change(user, appointment_uuid, detail={"step": "noshow"})
    appointment = access.appointment
    now = timezone.now()
    with _changing(grant):
        if access.is_patient or user.role == Role.PATIENT:
            raise BookingRefused(_("Only the professional's side records a no-show."), "side")
        if appointment.start > now:
            raise BookingRefused(_("A no-show is recorded once the time has come."), "not_yet")
        changed = Appointment.objects.filter(
            pk=appointment.pk, status=AppointmentStatus.BOOKED
        ).update(
            status=AppointmentStatus.NOSHOW,
            noshow_recorded_by=user,
            noshow_recorded_at=now,
            version=F("version") + 1,
            updated_at=now,
        )
        if changed != 1:
            raise BookingRefused(_("This appointment is no longer booked."), "not_booked")
        appointment.refresh_from_db()
        grant.done()
    return appointment


def mark_fulfilled(appointment: Appointment) -> bool:
    """The act took place (the teleconsultation ended): called by the act's own audited step."""
    changed = Appointment.objects.filter(pk=appointment.pk, status=AppointmentStatus.BOOKED).update(
        status=AppointmentStatus.FULFILLED,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    return changed == 1
