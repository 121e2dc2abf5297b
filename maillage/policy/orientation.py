"""After an assisted act, in the one policy: the debrief page and the orientation of the patient.

The debrief is part of the act, opened through its seat (``policy.teleconsult``:
the relation TELECONSULTATION, the patient's oppositions, the act being the
user's), and then only for the act's professionals: its doctor, and the
assisting nurse or pharmacist with her account (rule ``not_assistant``). The
patient, a guest, a stranger and the assistant of another act are refused
like an unknown act, and the refusal is audited. Each page opened leaves one
read entry; each choice recorded one write entry (``Change``), and a booking
its own entry in the agenda's policy, which says on whose behalf.

The prescription to print is the one the doctor filed in the record at the
report's closing: the assistant is not in the patient's care team, so the
record's gate would refuse her; it is opened here, as a part of the act she
took part in, the entry naming the document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from maillage.acts.models import Report, ReportStatus
from maillage.assisted.models import Choice, OrientationProposal
from maillage.audit.actions import Event, record_many
from maillage.audit.models import Action, Outcome
from maillage.policy import teleconsult as tc
from maillage.policy.decide import Decision
from maillage.policy.relations import Relation
from maillage.policy.teleconsult import (
    NOT_ASSISTANT,
    Change,
    ConsultationNotFound,
    Seat,
    Visitor,
    participating,
)
from maillage.teleconsult.models import Consultation, Participant, ParticipantRole, Status

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.files.models import StoredFile
    from maillage.records.models import Document

# The acts an assistant's list of debriefs shows at most.
LISTED = 50


def debriefs(place: Participant) -> bool:
    """The act's doctor, or the professional beside the patient with her account."""
    if place.role == ParticipantRole.DOCTOR:
        return True
    return place.role == ParticipantRole.ASSISTANT and place.user_id is not None


def _open(
    visitor: Visitor, consultation_uuid: object, purpose: str
) -> tuple[Consultation, Visitor, Decision, Participant | None]:
    consultation = tc.load(consultation_uuid)
    if consultation is None:
        tc._refuse_unknown(visitor, purpose, consultation_uuid)
        raise ConsultationNotFound
    visitor = tc.as_guest(visitor, consultation)
    decision, place = tc._decide(visitor, consultation, purpose, admitted=False, doctor_only=False)
    if place is not None and not debriefs(place):
        decision, place = Decision(purpose, None, NOT_ASSISTANT), None
    return consultation, visitor, decision, place


def _detail(step: str, detail: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"step": step, **(detail or {})}


def debrief_seat(
    visitor: Visitor,
    consultation_uuid: object,
    *,
    step: str = "debrief",
    detail: Mapping[str, Any] | None = None,
) -> Seat:
    """The act opened for its debrief (TELECONSULT_READ), audited; ConsultationNotFound if not."""
    purpose = Action.TELECONSULT_READ
    consultation, visitor, decision, place = _open(visitor, consultation_uuid, purpose)
    tc._audit(
        visitor,
        consultation,
        decision,
        Outcome.GRANTED if place is not None else Outcome.DENIED,
        tc._details(consultation.uuid, visitor, _detail(step, detail)),
    )
    if place is None:
        raise ConsultationNotFound
    return Seat(consultation, place, visitor)


def peek_debrief(visitor: Visitor, consultation_uuid: object) -> Seat:
    """As ``debrief_seat``, a grant unaudited: the page asking whether the report is closed.

    It learns only that (a closed report reloads the page, whose read is
    audited); a refusal is audited as any other.
    """
    purpose = Action.TELECONSULT_READ
    consultation, visitor, decision, place = _open(visitor, consultation_uuid, purpose)
    if place is None:
        tc._audit(
            visitor,
            consultation,
            decision,
            Outcome.DENIED,
            tc._details(consultation.uuid, visitor, {"step": "debrief_status"}),
        )
        raise ConsultationNotFound
    return Seat(consultation, place, visitor)


def debrief_for_change(
    visitor: Visitor, consultation_uuid: object, *, step: str
) -> tuple[Seat, Change]:
    """The act opened to record an orientation (TELECONSULT_WRITE); a refusal audited now."""
    purpose = Action.TELECONSULT_WRITE
    consultation, visitor, decision, place = _open(visitor, consultation_uuid, purpose)
    full = tc._details(consultation.uuid, visitor, {"step": step})
    if place is None:
        tc._audit(visitor, consultation, decision, Outcome.DENIED, full)
        raise ConsultationNotFound
    seat = Seat(consultation, place, visitor)
    return seat, Change(seat, purpose, full)


# --- What a debrief seat opens -----------------------------------------------------------------


def report_of(seat: Seat) -> Report | None:
    """The act's report (closed or not: the page says which), for a debrief seat."""
    return (
        Report.objects.filter(consultation_id=seat.consultation.pk)
        .select_related("prescription")
        .first()
    )


def report_closed(seat: Seat) -> bool:
    return Report.objects.filter(
        consultation_id=seat.consultation.pk, status=ReportStatus.CLOSED
    ).exists()


def proposals(seat: Seat) -> list[OrientationProposal]:
    """The act's orientation proposals, in the order made, for a debrief seat."""
    return list(
        OrientationProposal.objects.filter(consultation_id=seat.consultation.pk)
        .select_related(
            "professional", "structure__commune", "appointment__structure", "recorded_by"
        )
        .order_by("proposed_at", "pk")
    )


def proposal_of(seat: Seat, proposal_uuid: object) -> OrientationProposal | None:
    if not tc._is_uuid(proposal_uuid):
        return None
    return (
        OrientationProposal.objects.filter(
            consultation_id=seat.consultation.pk, uuid=str(proposal_uuid)
        )
        .select_related("professional", "slot__schedule")
        .first()
    )


def pending_for(seat: Seat, professional_id: int) -> OrientationProposal | None:
    return OrientationProposal.objects.filter(
        consultation_id=seat.consultation.pk,
        professional_id=professional_id,
        choice=Choice.PENDING,
    ).first()


def prescription(
    visitor: Visitor, consultation_uuid: object
) -> tuple[Seat, Document, StoredFile] | None:
    """The prescription filed at the report's closing, for the act's professionals, audited.

    One entry naming the document (or saying there is none to print).
    """
    purpose = Action.TELECONSULT_READ
    consultation, visitor, decision, place = _open(visitor, consultation_uuid, purpose)
    found: tuple[Document, StoredFile] | None = None
    if place is not None:
        report = (
            Report.objects.filter(consultation_id=consultation.pk, status=ReportStatus.CLOSED)
            .select_related("prescription")
            .first()
        )
        document = report.prescription if report is not None else None
        if document is not None:
            link = document.document_files.select_related("file").order_by("pk").first()
            found = (document, link.file) if link is not None else None
    detail: dict[str, Any] = {"step": "debrief_prescription"}
    if found is not None:
        detail.update(document=str(found[0].uuid), type=found[0].type)
    tc._audit(
        visitor,
        consultation,
        decision,
        Outcome.GRANTED if place is not None else Outcome.DENIED,
        tc._details(consultation.uuid, visitor, detail),
    )
    if place is None:
        raise ConsultationNotFound
    if found is None:
        return None
    return Seat(consultation, place, visitor), found[0], found[1]


def choices_for_doctor(user: User, consultation: Consultation) -> list[OrientationProposal]:
    """The patient's choices, on the report page its doctor opened (that opening is audited)."""
    if not Participant.objects.filter(
        consultation_id=consultation.pk, user_id=user.pk, role=ParticipantRole.DOCTOR
    ).exists():
        return []
    return list(
        OrientationProposal.objects.filter(consultation_id=consultation.pk)
        .exclude(choice=Choice.PENDING)
        .select_related("professional", "appointment")
        .order_by("proposed_at", "pk")
    )


def assisted_acts(user: User) -> list[Consultation]:
    """The acts the user assisted, held, within the access time: her list of debriefs.

    The newest first, at most ``LISTED``; a patient who opposed the user is
    left out (decided for each); each patient shown leaves one read entry.
    """
    places = Participant.objects.filter(user_id=user.pk, role=ParticipantRole.ASSISTANT)
    candidates = (
        participating(user)
        .filter(pk__in=places.values("consultation_id"), started_at__isnull=False)
        .exclude(status=Status.CANCELLED)
        .select_related("patient", "doctor")
        .order_by("-started_at")[:LISTED]
    )
    shown = [c for c in candidates if tc.shows_patient(user, c)]
    record_many(
        user,
        [
            Event(
                action=Action.TELECONSULT_READ,
                outcome=Outcome.GRANTED,
                patient=c.patient,
                basis=Relation.TELECONSULTATION,
                detail={"consultation": str(c.uuid), "listed": True, "step": "debriefs"},
            )
            for c in shown
        ],
    )
    return shown
