"""A teleconsultation's report in the one policy: only the act's doctor writes and reads it.

The report is part of the act: it is opened through the act's seat
(``policy.teleconsult``, TELECONSULT_READ / TELECONSULT_WRITE, ``doctor_only``),
so the relation, the patient's oppositions and the act being the user's are
decided there, and the opening leaves its one audit entry. Once closed, the
report is a document of the record, read through the record's gate like any
other; the patient, the médecin traitant and the care team read it there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maillage.acts.models import Report, ReportStatus
from maillage.audit.actions import Event, record_many
from maillage.audit.models import Action, Outcome
from maillage.policy.decide import Subject, decide
from maillage.policy.relations import Relation
from maillage.policy.teleconsult import (
    Change,
    Seat,
    Visitor,
    participating,
    seat_for_change,
    take_seat,
)
from maillage.teleconsult.models import Consultation, Participant, ParticipantRole, Status

if TYPE_CHECKING:
    from maillage.accounts.models import User


def report_for_reading(user: User, consultation_uuid: object) -> tuple[Seat, Report | None]:
    """The act's seat and its report if any; ConsultationNotFound for anyone but its doctor."""
    seat = take_seat(
        Visitor(user=user), consultation_uuid, doctor_only=True, detail={"step": "report"}
    )
    return seat, Report.objects.filter(consultation=seat.consultation).first()


def report_for_change(user: User, consultation_uuid: object, step: str) -> tuple[Seat, Change]:
    """The act opened to write its report; a refusal audited, the change closed by the action."""
    return seat_for_change(
        Visitor(user=user), consultation_uuid, doctor_only=True, detail={"step": step}
    )


LISTED = 50


def reports_to_write(user: User) -> list[tuple[Consultation, Report | None]]:
    """The acts the user was the doctor of, held, within the access time, report not closed.

    The newest first, at most ``LISTED``. A patient who opposed the user is
    left out (the decision is taken for each); each patient shown leaves one
    read entry, as every list of patients does.
    """
    places = Participant.objects.filter(user_id=user.pk, role=ParticipantRole.DOCTOR)
    candidates = (
        participating(user)
        .filter(pk__in=places.values("consultation_id"), started_at__isnull=False)
        .exclude(status=Status.CANCELLED)
        .exclude(report__status=ReportStatus.CLOSED)
        .select_related("patient")
        .order_by("-started_at")[:LISTED]
    )
    shown = [
        c
        for c in candidates
        if decide(Subject.of(user, c.patient), Action.TELECONSULT_READ).granted
    ]
    record_many(
        user,
        [
            Event(
                action=Action.TELECONSULT_READ,
                outcome=Outcome.GRANTED,
                patient=c.patient,
                basis=Relation.TELECONSULTATION,
                detail={"consultation": str(c.uuid), "listed": True, "step": "reports"},
            )
            for c in shown
        ],
    )
    reports = {r.consultation_id: r for r in Report.objects.filter(consultation__in=shown)}
    return [(c, reports.get(c.pk)) for c in shown]
