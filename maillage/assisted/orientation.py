"""The only writers of the orientation after an assisted act: proposed, never imposed.

The assistant (or the act's doctor) proposes a professional of the
territory and one of his free slots to the patient (``propose``); the
patient answers, and her answer is recorded as hers: accepted, the slot is
booked for her through the agenda's own action and policy
(``agenda.actions.book``, whose entry says it was booked on her behalf and
by which proposal), or refused, with the reason she gives if she gives one.
Each step opens the act through ``policy.orientation`` (a ``Change``, closed
once: one entry). A slot taken meanwhile is said in French and the answer
stays to be given: nothing is recorded that did not happen.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.agenda import actions as agenda
from maillage.agenda.models import Modality, SlotModality, SlotStatus
from maillage.assisted.models import Choice, OrientationProposal
from maillage.lib.geo import GeoPoint
from maillage.policy import orientation as policy
from maillage.policy.agenda import AppointmentNotFound
from maillage.policy.teleconsult import Change, Seat
from maillage.teleconsult.models import Status
from maillage.territory.distance import get_distance_provider

REASON_MAX = 300


class OrientationRefused(Exception):
    """A step refused for a reason the assistant can act on; ``message`` is in French."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _refuse(change: Change, failure: str, message: str) -> OrientationRefused:
    change.failed(failure)
    return OrientationRefused(message)


def _held(seat: Seat, change: Change) -> None:
    consultation = seat.consultation
    if consultation.status == Status.CANCELLED or consultation.started_at is None:
        raise _refuse(change, "not_held", _("This teleconsultation did not take place."))


def distance_km(seat: Seat, structure: object) -> Decimal | None:
    """From the patient's commune to the place, by the directory's distance provider."""
    origin = seat.patient.commune
    commune = getattr(structure, "commune", None)
    if origin is None or commune is None:
        return None
    km = get_distance_provider().distance_km(
        GeoPoint(origin.latitude, origin.longitude),
        GeoPoint(commune.latitude, commune.longitude),
    )
    return Decimal(str(round(km, 1)))


def propose(seat: Seat, change: Change, slot_uuid: object, modality: str) -> OrientationProposal:
    """Propose a professional's free slot to the patient; her answer is still to come.

    Proposing again a professional whose proposal waits for an answer
    changes the slot proposed (one proposal per professional and act).
    """
    _held(seat, change)
    try:
        slot = agenda.load_slot(slot_uuid)
    except agenda.SlotNotFound:
        raise _refuse(
            change, "unknown_slot", _("This slot is no longer offered: choose another one.")
        ) from None
    now = timezone.now()
    if slot.status != SlotStatus.FREE or slot.start <= now or not slot.schedule.active:
        raise _refuse(
            change,
            "slot_taken",
            _("This slot was just booked by someone else: choose another one."),
        )
    if slot.modality != SlotModality.BOTH:
        modality = slot.modality
    elif modality not in Modality.values:
        modality = Modality.IN_PERSON
    schedule = slot.schedule
    professional = schedule.professional
    if not professional.active:
        raise _refuse(change, "inactive", _("This professional no longer practises here."))
    fields = {
        "slot": slot,
        "structure": schedule.structure,
        "proposed_start": slot.start,
        "modality": modality,
        "distance_km": distance_km(seat, schedule.structure),
        "proposed_by": seat.user,
        "proposed_at": now,
    }
    try:
        with transaction.atomic():
            pending = policy.pending_for(seat, professional.pk)
            if pending is not None:
                for name, value in fields.items():
                    setattr(pending, name, value)
                pending.save(update_fields=list(fields))
                proposal = pending
            else:
                proposal = OrientationProposal.objects.create(
                    consultation=seat.consultation, professional=professional, **fields
                )
            change.done(
                proposal=str(proposal.uuid),
                professional=str(professional.uuid),
                slot=str(slot.uuid),
            )
    except IntegrityError:
        raise _refuse(
            change, "already_proposed", _("This professional was just proposed: reload the page.")
        ) from None
    return proposal


def _pending(seat: Seat, change: Change, proposal_uuid: object) -> OrientationProposal:
    proposal = policy.proposal_of(seat, proposal_uuid)
    if proposal is None:
        raise _refuse(change, "unknown_proposal", _("This proposal does not exist."))
    if proposal.choice != Choice.PENDING:
        raise _refuse(change, "already_decided", _("The patient's answer is already recorded."))
    return proposal


def accept(seat: Seat, change: Change, proposal_uuid: object) -> OrientationProposal:
    """The patient accepts: the proposed slot is booked for her, then her choice recorded."""
    _held(seat, change)
    proposal = _pending(seat, change, proposal_uuid)
    user = seat.user
    if user is None or proposal.slot is None:
        raise _refuse(
            change, "slot_gone", _("This slot is no longer offered: propose another one.")
        )
    day = seat.consultation.started_at or timezone.now()
    booking = agenda.Booking(
        slot_uuid=proposal.slot.uuid,
        patient_uuid=seat.patient.uuid,
        modality=proposal.modality,
        reason=_("Orientation after the assisted teleconsultation of %(day)s")
        % {"day": timezone.localtime(day).strftime("%d/%m/%Y")},
    )
    on_behalf = {
        "on_behalf_of": "patient",
        "patient_choice": "accepted",
        "orientation": str(proposal.uuid),
        "consultation": str(seat.consultation.uuid),
    }
    try:
        appointment = agenda.book(user, booking, detail=on_behalf)
    except agenda.BookingRefused as refused:
        raise _refuse(
            change,
            refused.failure,
            _("%(why)s The patient's answer is not recorded yet: propose another slot.")
            % {"why": refused.message},
        ) from None
    except AppointmentNotFound:
        raise _refuse(
            change, "booking_refused", _("You may not book in this agenda for this patient.")
        ) from None
    now = timezone.now()
    with transaction.atomic():
        recorded = OrientationProposal.objects.filter(pk=proposal.pk, choice=Choice.PENDING).update(
            choice=Choice.ACCEPTED, appointment=appointment, decided_at=now, recorded_by=user
        )
        if recorded:
            change.done(
                proposal=str(proposal.uuid),
                choice=Choice.ACCEPTED,
                appointment=str(appointment.uuid),
                recorded_for="patient",
            )
    if not recorded:
        # Answered meanwhile from another page: the booking made for nothing is undone.
        agenda.cancel(user, appointment.uuid, _("answer already recorded"))
        raise _refuse(change, "already_decided", _("The patient's answer is already recorded."))
    proposal.refresh_from_db()
    return proposal


def refuse(seat: Seat, change: Change, proposal_uuid: object, reason: str) -> OrientationProposal:
    """The patient declines the proposal; the reason is hers to give or not."""
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise _refuse(
            change,
            "reason_too_long",
            _("The reason is too long (300 characters at most)."),
        )
    if "\x00" in reason:
        raise _refuse(change, "bad_reason", _("This text holds a character that is not allowed."))
    proposal = _pending(seat, change, proposal_uuid)
    user = seat.user
    now = timezone.now()
    with transaction.atomic():
        recorded = OrientationProposal.objects.filter(pk=proposal.pk, choice=Choice.PENDING).update(
            choice=Choice.REFUSED, reason=reason, decided_at=now, recorded_by=user
        )
        if recorded:
            change.done(
                proposal=str(proposal.uuid),
                choice=Choice.REFUSED,
                reason_given=bool(reason),
                recorded_for="patient",
            )
    if not recorded:
        raise _refuse(change, "already_decided", _("The patient's answer is already recorded."))
    proposal.refresh_from_db()
    return proposal
