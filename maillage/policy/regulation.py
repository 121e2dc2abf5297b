"""The policy of regulation cases: the regulator's page and the administrator's review.

The patients named on the regulator's page come through the policy
(``search_patients``: decided and audited on each); the review queue shows
the administrator who each case was about, and each listing is audited on
the patient, as the break-the-glass review is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone

from maillage.accounts.models import Role
from maillage.audit.models import Action
from maillage.policy.gate import _is_uuid, audit_review_listing, search_patients
from maillage.policy.relations import open_regulation_cases
from maillage.regulation.models import RegulationCase

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.patients.models import Patient

# More open cases than this at once is not regulation any more.
MAX_LISTED = 100
RECENTLY_REVIEWED = 20


@dataclass(frozen=True)
class OpenCase:
    """One of the regulator's open cases, with the patient if the policy still shows her."""

    case: RegulationCase
    patient: Patient | None


def open_cases(user: User) -> list[OpenCase]:
    """The regulator's open cases, newest first; each patient shown is audited."""
    cases = list(open_regulation_cases(user).order_by("-opened_at")[:MAX_LISTED])
    if not cases:
        return []
    page = search_patients(
        user,
        Q(pk__in=[c.patient_id for c in cases]),
        limit=MAX_LISTED,
        described_as={"regulation_cases": len(cases)},
    )
    shown = {p.pk: p for p in page.patients}
    return [OpenCase(c, shown.get(c.patient_id)) for c in cases]


def own_open_case(user: User, case_uuid: object) -> RegulationCase | None:
    """One of the user's own cases (the action decides whether it is still open)."""
    if not _is_uuid(case_uuid):
        return None
    return (
        RegulationCase.objects.filter(regulator_id=user.pk, uuid=uuid.UUID(str(case_uuid)))
        .select_related("patient")
        .first()
    )


def _over() -> Q:
    return Q(closed_at__isnull=False) | Q(expires_at__lte=timezone.now())


def review_listing(user: User) -> list[RegulationCase]:
    """Cases over and not yet reviewed, oldest first, each listing audited on the patient.

    The reviewer sees who the patient is and the reason given (to judge the
    case), never the record; the patient sees the review in her access log.
    """
    if user.role != Role.ADMIN:
        return []
    shown = list(
        RegulationCase.objects.filter(_over(), reviewed_at__isnull=True)
        .select_related("regulator", "patient")
        .order_by("opened_at")[:MAX_LISTED]
    )
    audit_review_listing(user, Action.REGULATION_REVIEW, "case", shown)
    return shown


def recently_reviewed(user: User) -> list[RegulationCase]:
    """The last reviews, without the patient (already judged, not shown again)."""
    if user.role != Role.ADMIN:
        return []
    return list(
        RegulationCase.objects.filter(reviewed_at__isnull=False)
        .select_related("regulator", "reviewed_by")
        .order_by("-reviewed_at")[:RECENTLY_REVIEWED]
    )


def case_to_review(user: User, case_uuid: object) -> RegulationCase | None:
    if user.role != Role.ADMIN or not _is_uuid(case_uuid):
        return None
    return (
        RegulationCase.objects.filter(uuid=uuid.UUID(str(case_uuid)))
        .select_related("patient")
        .first()
    )
