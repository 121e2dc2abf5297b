"""Pool members claiming the same request at once: one wins, the others are told, one care place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.directory.terminology import Specialty
from maillage.expertise import actions
from maillage.expertise.models import PoolMember, Request, Status
from maillage.patients.tests.test_update_race import _at_once
from maillage.records.models import CareTeamMember
from maillage.testing import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


def test_of_three_claims_at_once_exactly_one_wins(personas: Any, dermatology: Any) -> None:
    third = f.professional(
        "dermato.trois",
        last_name="Leroy",
        specialty=Specialty.DERMATOLOGY,
        accepts_teleexpertise=True,
        teleexpertise_response_hours=24,
    )
    PoolMember.objects.create(pool=dermatology.pool, professional=third)
    gp = personas.treating_doctor.user
    draft = actions.save_draft(
        gp,
        personas.patient.uuid,
        actions.Ask(
            question="Prurit diffus depuis 6 semaines.",
            priority="routine",
            pool_uuid=dermatology.pool.uuid,
            consent=True,
        ),
    )
    request = actions.submit(gp, draft.uuid)
    claimants = [dermatology.first.user, dermatology.second.user, third.user]

    def claim_as(user: Any) -> Callable[[], object]:
        return lambda: actions.claim(user, request.uuid)

    results = _at_once([claim_as(user) for user in claimants])

    won = [r for r in results if isinstance(r, Request)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert (len(won), len(lost)) == (1, 2), results
    # A loser either saw it taken at the gate (404) or lost the conditional UPDATE (told so).
    assert all(
        isinstance(e, (actions.ExpertiseRuleBroken, actions.policy.RequestNotFound)) for e in lost
    )
    stored = Request.objects.get(pk=request.pk)
    assert stored.status == Status.CLAIMED and stored.assignee_id == won[0].assignee_id
    assert CareTeamMember.objects.filter(patient=personas.patient, reason="act").count() == 1
    claims = AuditEntry.objects.filter(
        action=Action.EXPERTISE_WRITE, detail__step="claim", patient=personas.patient
    )
    assert claims.filter(outcome=Outcome.GRANTED).count() == 1
    assert claims.exclude(outcome=Outcome.GRANTED).count() == 2
