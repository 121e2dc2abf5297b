"""The opinion goes to the requester and the médecin traitant, each decided; a refusal is said."""

from __future__ import annotations

from typing import Any

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.directory.terminology import Specialty
from maillage.expertise import actions
from maillage.expertise.models import Recommendation, Request, Status
from maillage.messaging.models import Delivery, DeliveryStatus
from maillage.records import actions as records
from maillage.records.models import Document, DocumentType
from maillage.testing import factories as f


def _concluded(asker: Any, patient: Any, dermatology: Any) -> Request:
    draft = actions.save_draft(
        asker,
        patient.uuid,
        actions.Ask(
            question="Plaie chronique de jambe, avis sur le pansement.",
            priority="urgent",
            pool_uuid=dermatology.pool.uuid,
            consent=True,
        ),
    )
    request = actions.submit(asker, draft.uuid)
    specialist = dermatology.first.user
    actions.claim(specialist, request.uuid)
    actions.conclude(
        specialist,
        request.uuid,
        actions.Conclusion("Hydrocolloïde, revoir à 15 jours.", Recommendation.NONE),
    )
    request.refresh_from_db()
    return request


@pytest.mark.django_db
def test_a_nurse_asks_and_the_opinion_reaches_her_and_the_outside_treating_doctor(
    personas: Any, dermatology: Any
) -> None:
    """The médecin traitant has no account here: his MSSanté address gets it by the gateway."""
    outside = f.professional(
        None,
        last_name="Texier",
        specialty=Specialty.GENERAL_PRACTICE_QUALIFIED,
        secure_messaging_address="jean.texier@medecin.mssante.fr",
    )
    patient = f.patient("FAURE", "Odette", followed_by=(personas.msp,), treating_doctor=outside)
    # The nurse of the MSP that follows the patient asks.

    request = _concluded(personas.nurse.user, patient, dermatology)

    assert request.status == Status.CONCLUDED and request.opinion_problem == ""
    deliveries = Delivery.objects.filter(message__thread__patient=patient)
    assert {(d.user_id, d.address) for d in deliveries} == {
        (personas.nurse.user.pk, ""),
        (None, "jean.texier@medecin.mssante.fr"),
    }
    assert deliveries.get(address__endswith="mssante.fr").status == DeliveryStatus.PENDING
    assert Document.objects.get(patient=patient).type == DocumentType.TELEEXPERTISE_OPINION


@pytest.mark.django_db
def test_a_refused_receiver_is_said_and_never_undoes_the_conclusion(
    personas: Any, dermatology: Any
) -> None:
    """The patient opposed her médecin traitant after a colleague of his asked."""
    asker = f.professional(
        "medecin.remplacant",
        last_name="Durand",
        specialty=Specialty.GENERAL_PRACTICE_QUALIFIED,
        structures=(personas.msp,),
    )
    records.add_for_act(personas.treating_doctor.user, personas.patient.uuid, asker, days=30)
    records.oppose_professional(personas.patient_user, personas.patient, personas.treating_doctor)

    request = _concluded(asker.user, personas.patient, dermatology)

    assert request.status == Status.CONCLUDED
    assert request.opinion is not None
    assert "Morel" in request.opinion_problem
    refused = AuditEntry.objects.filter(
        patient=personas.patient, outcome=Outcome.DENIED, actor=dermatology.first.user
    )
    assert refused.filter(action=Action.MESSAGE_RECEIVE).exists()
    # The requester got it.
    assert Delivery.objects.filter(
        message__thread__patient=personas.patient, user=asker.user
    ).exists()
