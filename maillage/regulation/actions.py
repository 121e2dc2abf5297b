"""The only writers of regulation cases: open, close, review. Each is audited.

A case is the regulator's only way into a patient's data (the policy's
``Relation.REGULATION_CASE``): opened with a reason and for a few hours, told
to the patient, closed by the regulator or by time, reviewed afterwards.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.accounts.models import Role
from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome
from maillage.policy.decide import Subject, relation_rule
from maillage.policy.gate import PatientNotFound, find_by_evidence
from maillage.policy.relations import IdentityEvidence, Relation
from maillage.policy.table import REGULATION_ROLES
from maillage.records.models import ReviewOutcome
from maillage.regulation import notifications
from maillage.regulation.models import RegulationCase

if TYPE_CHECKING:
    from maillage.accounts.models import User

MIN_REASON_LENGTH = 15
MAX_REASON_LENGTH = 1000
MIN_HOURS = 1


class RegulationRuleBroken(Exception):
    """An action refused by a rule of regulation; ``message`` is for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def max_hours() -> int:
    """The longest a case may last, in whole hours (never below one hour)."""
    return max(MIN_HOURS, int(settings.MAILLAGE_REGULATION_HOURS))


def may_regulate(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.role in REGULATION_ROLES


def open_case(
    user: User, evidence: IdentityEvidence | None, reason: str, hours: int
) -> RegulationCase:
    """Open a case about the patient the evidence designates, unless she opposed it.

    Validated first (role, reason, duration), then the patient, then what she
    decided; every refusal about a patient is audited on her with its rule.
    """
    reason = reason.strip()
    if not may_regulate(user):
        raise RegulationRuleBroken(_("Only a regulator opens a regulation case."))
    if not MIN_REASON_LENGTH <= len(reason) <= MAX_REASON_LENGTH:
        raise RegulationRuleBroken(
            _("Give the reason for the request in %(low)d to %(high)d characters.")
            % {"low": MIN_REASON_LENGTH, "high": MAX_REASON_LENGTH}
        )
    if not MIN_HOURS <= hours <= max_hours():
        raise RegulationRuleBroken(
            _("A case lasts from %(low)d to %(high)d hours.")
            % {"low": MIN_HOURS, "high": max_hours()}
        )
    patient = find_by_evidence(evidence)
    if patient is None:
        # No patient to log it on: the regulator's own trail keeps the attempt.
        record(
            user,
            Event(
                action=Action.REGULATION_OPEN,
                outcome=Outcome.DENIED,
                reason=reason,
                detail={"rule": "unknown_patient"},
            ),
        )
        raise PatientNotFound
    # The same rules as every reasoned relation (opposition to this
    # professional, to emergency access), asked of the policy, not rewritten.
    refused = relation_rule(
        Subject.of(user, patient), Action.REGULATION_OPEN, Relation.REGULATION_CASE
    )
    if refused is not None:
        record(
            user,
            Event(
                action=Action.REGULATION_OPEN,
                outcome=Outcome.DENIED,
                patient=patient,
                reason=reason,
                detail={"rule": refused},
            ),
        )
        raise RegulationRuleBroken(
            _(
                "The patient has opposed emergency access to their data: no regulation case "
                "can be opened. Orient the request without the record."
            )
        )
    now = timezone.now()
    with transaction.atomic():
        case = RegulationCase.objects.create(
            patient=patient,
            regulator=user,
            reason=reason,
            opened_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
        record(
            user,
            Event(
                action=Action.REGULATION_OPEN,
                patient=patient,
                basis=Relation.REGULATION_CASE,
                reason=reason,
                detail={"case": str(case.uuid), "hours": hours},
            ),
        )
    transaction.on_commit(lambda: notifications.tell_patient_of_regulation(case))
    return case


def close_case(user: User, case: RegulationCase) -> None:
    """End a case before its time; closing one already over changes nothing (FAILED)."""
    detail = {"case": str(case.uuid)}
    if case.regulator_id != user.pk:
        record(
            user,
            Event(
                action=Action.REGULATION_CLOSE,
                outcome=Outcome.DENIED,
                patient=case.patient,
                detail={**detail, "rule": "not_own_case"},
            ),
        )
        raise RegulationRuleBroken(_("This case is not yours."))
    now = timezone.now()
    with transaction.atomic():
        # Conditional: a case already closed, or past its time, is not touched.
        closed = RegulationCase.objects.filter(
            pk=case.pk, closed_at__isnull=True, expires_at__gt=now
        ).update(closed_at=now)
        if closed != 1:
            record(
                user,
                Event(
                    action=Action.REGULATION_CLOSE,
                    outcome=Outcome.FAILED,
                    patient=case.patient,
                    basis=Relation.REGULATION_CASE,
                    detail={**detail, "failure": "already_over"},
                ),
            )
        else:
            record(
                user,
                Event(
                    action=Action.REGULATION_CLOSE,
                    patient=case.patient,
                    basis=Relation.REGULATION_CASE,
                    detail=detail,
                ),
            )
    if closed != 1:
        raise RegulationRuleBroken(_("This case was already closed."))


def review_case(reviewer: User, case: RegulationCase, outcome: str, note: str) -> None:
    """An administrator judges a case that is over: justified, not, or to follow up."""
    if reviewer.role != Role.ADMIN:
        raise RegulationRuleBroken(_("Only an administrator reviews regulation cases."))
    if outcome not in ReviewOutcome.values:
        raise RegulationRuleBroken(_("Choose the outcome of the review."))
    now = timezone.now()
    with transaction.atomic():
        # Only a case that is over, and not yet reviewed: judged once, afterwards.
        updated = (
            RegulationCase.objects.filter(pk=case.pk, reviewed_at__isnull=True)
            .exclude(closed_at__isnull=True, expires_at__gt=now)
            .update(
                reviewed_at=now,
                reviewed_by=reviewer,
                review_outcome=outcome,
                review_note=note.strip(),
            )
        )
        if updated == 1:
            record(
                reviewer,
                Event(
                    action=Action.REGULATION_REVIEW,
                    patient=case.patient,
                    basis="review",
                    detail={"case": str(case.uuid), "outcome": outcome},
                ),
            )
    if updated != 1:
        raise RegulationRuleBroken(_("This case is still open or has already been reviewed."))
