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

from maillage.acts.models import Report
from maillage.policy.teleconsult import Change, Seat, Visitor, seat_for_change, take_seat

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
