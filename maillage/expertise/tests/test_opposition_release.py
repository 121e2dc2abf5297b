"""The patient opposes the specialist who holds her request: it does not wait for him."""

from __future__ import annotations

from typing import Any

import pytest

from maillage.audit.models import Action, AuditEntry
from maillage.expertise import actions, deadlines
from maillage.expertise.models import MessageKind, Request, Status
from maillage.expertise.tests.test_figures import _ask
from maillage.policy.expertise import RequestNotFound, open_request
from maillage.records import actions as records
from maillage.records.models import CareTeamMember


@pytest.mark.django_db
def test_a_pool_request_goes_back_to_the_pool_once_and_the_others_may_take_it(
    personas: Any, dermatology: Any
) -> None:
    request = _ask(personas, dermatology)
    first, second = dermatology.first, dermatology.second
    actions.claim(first.user, request.uuid)
    actions.ask_for_more(first.user, request.uuid, "Une photo de plus près ?")
    records.oppose_professional(personas.patient_user, personas.patient, first)
    with pytest.raises(RequestNotFound):
        open_request(first.user, request.uuid)  # the policy closed him out at once

    deadlines.remind()
    deadlines.remind()  # the minute job again: nothing more to do
    request.refresh_from_db()
    assert request.status == Status.WAITING and request.assignee_id is None
    assert request.hold_started_at is None and request.held_seconds >= 0
    released = request.messages.filter(kind=MessageKind.RELEASED)
    assert released.count() == 1 and released.get().author is None
    assert not CareTeamMember.objects.filter(
        professional=first, patient=personas.patient, valid_until__isnull=True
    ).exists()
    entries = AuditEntry.objects.filter(
        action=Action.EXPERTISE_WRITE, reason="patient_opposed_specialist"
    )
    assert entries.count() == 1 and entries.get().actor is None
    assert entries.get().patient_id == personas.patient.pk
    # The other member sees it again, takes it and answers.
    actions.claim(second.user, request.uuid)
    actions.answer(second.user, request.uuid, "Vu : bénin.")
    assert Request.objects.get(pk=request.pk).assignee_id == second.pk


@pytest.mark.django_db
def test_a_request_to_a_named_specialist_is_cancelled_and_the_requester_told(
    personas: Any, dermatology: Any
) -> None:
    gp = personas.treating_doctor.user
    draft = actions.save_draft(
        gp,
        personas.patient.uuid,
        actions.Ask(
            question="Lésion du cuir chevelu ?",
            priority="soon",
            specialist_uuid=dermatology.first.uuid,
            consent=True,
        ),
    )
    request = actions.submit(gp, draft.uuid)
    records.oppose_professional(personas.patient_user, personas.patient, dermatology.first)
    assert actions.release_opposed() == 1
    assert actions.release_opposed() == 0
    request.refresh_from_db()
    assert request.status == Status.CANCELLED and request.cancelled_at is not None
    # The requester still reads it, with the reason, and may ask someone else.
    access = open_request(gp, request.uuid)
    assert access.request.messages.filter(kind=MessageKind.RELEASED).exists()
