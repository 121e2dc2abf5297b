"""A whole request through the actions: ask, claim, ask more, reply, conclude, filed and sent."""

from __future__ import annotations

from typing import Any

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.expertise import actions
from maillage.expertise.models import MessageKind, Recommendation, Request, Status
from maillage.expertise.tests.conftest import PDF
from maillage.files.storage import Upload
from maillage.messaging.models import Thread
from maillage.policy.expertise import RequestNotFound, open_request
from maillage.records.models import CareTeamMember, DocumentType
from maillage.tasks.models import OutgoingMail


def _ask(personas: Any, dermatology: Any) -> Request:
    gp = personas.treating_doctor.user
    draft = actions.save_draft(
        gp,
        personas.patient.uuid,
        actions.Ask(
            question="Lésion pigmentée du dos, évolutive depuis 3 mois. Exérèse ?",
            priority="soon",
            pool_uuid=dermatology.pool.uuid,
            uploads=[Upload("lesion.pdf", PDF)],
            consent=True,
        ),
    )
    return actions.submit(gp, draft.uuid)


@pytest.mark.django_db
def test_a_pool_request_goes_round_and_is_filed_once(personas: Any, dermatology: Any) -> None:
    request = _ask(personas, dermatology)
    assert request.status == Status.WAITING
    assert request.due_at is not None and request.specialty == dermatology.pool.specialty
    notices = set(OutgoingMail.objects.values_list("user__username", flat=True))
    assert notices == {"dermato.un", "dermato.deux"}  # the coordinator does not answer

    first, second = dermatology.first.user, dermatology.second.user
    actions.claim(first, request.uuid)
    # Taken: the other member no longer takes part, and may not claim it or read it.
    with pytest.raises(RequestNotFound):
        actions.claim(second, request.uuid)
    with pytest.raises(RequestNotFound):
        open_request(second, request.uuid)
    assert CareTeamMember.objects.filter(
        patient=personas.patient, professional=dermatology.first, valid_until__isnull=True
    ).exists()

    actions.ask_for_more(first, request.uuid, "Diamètre ? Photo dermatoscopique ?")
    request.refresh_from_db()
    assert request.status == Status.ON_HOLD and request.first_answer_at is not None
    due_before = request.due_at
    actions.reply(personas.treating_doctor.user, request.uuid, "8 mm, bords irréguliers.")
    request.refresh_from_db()
    assert request.status == Status.CLAIMED and request.due_at >= due_before

    actions.conclude(
        first,
        request.uuid,
        actions.Conclusion("Exérèse recommandée en consultation.", Recommendation.CONSULTATION),
    )
    request.refresh_from_db()
    assert request.status == Status.CONCLUDED
    assert request.opinion_problem == ""
    assert request.opinion is not None
    opinion = request.opinion
    assert opinion.type == DocumentType.TELEEXPERTISE_OPINION
    assert opinion.author == first
    data = opinion.document_files.get().file
    assert data.mime == "application/pdf"
    # Sent to the requester (here also the médecin traitant): one thread.
    thread = Thread.objects.get(patient=personas.patient)
    assert set(thread.participants.values_list("user__username", flat=True)) == {
        "dermato.un",
        "medecin.traitant",
    }
    kinds = list(request.messages.values_list("kind", flat=True))
    assert kinds == [
        MessageKind.QUESTION,
        MessageKind.CLAIMED,
        MessageKind.INFO_REQUEST,
        MessageKind.REPLY,
        MessageKind.CONCLUSION,
    ]
    # Each step left one entry; the late claim is refused and says by which rule.
    steps = AuditEntry.objects.filter(action=Action.EXPERTISE_WRITE, patient=personas.patient)
    refused = steps.get(outcome=Outcome.DENIED, actor=second)
    assert refused.detail["rule"] == "relation"  # no request of hers is his any more
    assert steps.filter(outcome=Outcome.GRANTED, actor=first).count() == 3  # claim, ask, conclude
