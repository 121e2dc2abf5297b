"""A list of requests never names a patient who opposed the reader (rule 3, as patient lists)."""

from __future__ import annotations

from typing import Any

import pytest

from maillage.audit.models import Action, AuditEntry
from maillage.expertise import actions, queries
from maillage.expertise.queries import Tab
from maillage.front.tests.test_home import signed_in
from maillage.records import actions as records


@pytest.mark.django_db
def test_the_queue_and_the_requesters_list_leave_out_a_patient_who_opposed_the_reader(
    personas: Any, dermatology: Any
) -> None:
    gp = personas.treating_doctor.user
    first = dermatology.first.user
    draft = actions.save_draft(
        gp,
        personas.patient.uuid,
        actions.Ask(
            question="Kératose du visage.",
            priority="routine",
            pool_uuid=dermatology.pool.uuid,
            consent=True,
        ),
    )
    request = actions.submit(gp, draft.uuid)
    actions.claim(first, request.uuid)
    assert list(queries.queue_of(first)) == [request]  # once, not once per pool member
    assert list(queries.asked_by(gp, Tab.WAITING)) == [request]

    records.oppose_professional(personas.patient_user, personas.patient, dermatology.first)
    records.oppose_professional(personas.patient_user, personas.patient, personas.treating_doctor)

    for user, path in ((first, "/teleexpertise/file/"), (gp, "/teleexpertise/")):
        before = AuditEntry.objects.filter(actor=user, action=Action.EXPERTISE_READ).count()
        page = signed_in(user).get(path)
        assert page.status_code == 200
        assert "GIRARD" not in page.content.decode().upper()
        after = AuditEntry.objects.filter(actor=user, action=Action.EXPERTISE_READ).count()
        assert after == before
    assert list(queries.queue_of(first)) == []
    assert list(queries.asked_by(gp, Tab.WAITING)) == []
