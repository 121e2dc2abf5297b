"""Who is told what, once per step: notices (no health data) and the bell's events."""

from __future__ import annotations

from typing import Any

import pytest

from maillage.expertise import actions
from maillage.expertise.models import Recommendation
from maillage.front.tests.test_home import signed_in
from maillage.realtime.events import EXPERTISE_CHANGED
from maillage.realtime.models import UserEvent
from maillage.tasks.models import OutgoingMail


def _events(user: Any) -> list[str]:
    return [
        str(e.data.get("step", "live"))
        for e in UserEvent.objects.filter(user=user, kind=EXPERTISE_CHANGED).order_by("seq")
    ]


@pytest.mark.django_db
def test_each_step_tells_each_person_once_and_the_bell_leads_to_the_request(
    personas: Any, dermatology: Any
) -> None:
    gp = personas.treating_doctor.user
    first = dermatology.first.user
    draft = actions.save_draft(
        gp,
        personas.patient.uuid,
        actions.Ask(
            question="Eczéma des mains résistant aux dermocorticoïdes.",
            priority="routine",
            pool_uuid=dermatology.pool.uuid,
            consent=True,
        ),
    )
    request = actions.submit(gp, draft.uuid)
    actions.claim(first, request.uuid)
    actions.ask_for_more(first, request.uuid, "Profession ? Contact avec des irritants ?")
    actions.reply(gp, request.uuid, "Coiffeuse.")
    actions.conclude(
        first, request.uuid, actions.Conclusion("Tests épicutanés.", Recommendation.REFERRAL)
    )

    # The requester: taken, asked for more, concluded; the specialist: asked, the reply.
    assert _events(gp) == ["claimed", "info_request-v4", "conclusion-v6"]
    assert _events(first) == ["asked-v2", "reply-v5"]
    # The other pool member: asked, then told it was taken.
    assert _events(dermatology.second.user) == ["asked-v2", "taken"]
    # Notices never carry the question or the patient.
    for mail in OutgoingMail.objects.all():
        assert "Eczéma" not in mail.body and "GIRARD" not in mail.body.upper()
        assert "Coiffeuse" not in mail.body

    page = signed_in(first).get("/notifications/")
    assert f"/teleexpertise/{request.uuid}/" in page.content.decode()
