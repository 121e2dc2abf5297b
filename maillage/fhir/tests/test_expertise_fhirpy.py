"""A whole tele-expertise through the FHIR API alone, by fhirpy unchanged, against the real server.

The médecin traitant asks the dermatology pool (ServiceRequest, with its
Task); a dermatologist of the pool finds it among the pool's requested
Tasks, takes it (Task accepted), asks for more (a Communication), the GP
replies, and the dermatologist concludes (Task completed with the
conclusion); the Task's output then names the filed opinion, which the GP
reads as a DocumentReference. The server is uvicorn serving the app.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome, ResourceNotFound

from maillage.accounts.actions import create_api_token
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.expertise.models import Recommendation, Request, Status
from maillage.expertise.tests.conftest import PDF
from maillage.fhir.mapping.expertise_communication import KIND_SYSTEM
from maillage.fhir.mapping.task import OUTPUT_SYSTEM, RECOMMENDATION_SYSTEM
from maillage.fhir.tests.expertise_helpers import QUESTION, consent, pool_performer


def client(live_url: str, who: Any) -> SyncFHIRClient:
    token = create_api_token(who.user, label="fhirpy")
    return SyncFHIRClient(f"{live_url}/fhir/r4", authorization=f"Bearer {token}")


@pytest.mark.usefixtures("private_files")
def test_a_whole_tele_expertise_through_fhirpy(live_url, personas, dermatology):
    gp_entry = personas.treating_doctor
    gp = client(live_url, gp_entry)
    dermatologist = client(live_url, dermatology.first)
    colleague = client(live_url, dermatology.second)
    stranger = client(live_url, personas.cardiologist)
    patient = f"Patient/{personas.patient.uuid}"

    # The GP asks, with a photo shared from the record as a DocumentReference.
    asked = gp.resource(
        "ServiceRequest",
        status="active",
        intent="order",
        priority="urgent",
        subject={"reference": patient},
        requester={"reference": f"Practitioner/{gp_entry.uuid}"},
        performer=[pool_performer(dermatology.pool)],
        note=[{"text": QUESTION}],
        extension=[consent(gp_entry.uuid)],
    )
    asked.save()
    assert asked["status"] == "active"
    task = gp.resources("Task").search(focus=f"ServiceRequest/{asked.id}").first()
    assert task is not None and task["status"] == "requested"

    # The pool's dermatologist finds it among the pool's requested Tasks and takes it.
    waiting = (
        dermatologist.resources("Task")
        .search(owner=f"CareTeam/{dermatology.pool.uuid}", status="requested")
        .fetch_all()
    )
    assert [t.id for t in waiting] == [task.id]
    assert waiting[0]["restriction"]["period"]["end"]
    mine = waiting[0]
    mine.patch(status="accepted")
    assert mine["status"] == "accepted"
    assert mine["owner"]["reference"] == f"Practitioner/{dermatology.first.uuid}"
    # Her colleague no longer sees it, and cannot take it.
    assert colleague.resources("Task").search(status="requested").fetch_all() == []
    with pytest.raises(ResourceNotFound):
        colleague.reference("Task", task.id).to_resource()

    # She asks for more; the GP reads the question and replies with a file.
    dermatologist.resource(
        "Communication",
        status="completed",
        partOf=[{"reference": f"Task/{task.id}"}],
        category=[{"coding": [{"system": KIND_SYSTEM, "code": "info_request"}]}],
        payload=[{"contentString": "Diamètre ? Photo dermatoscopique ?"}],
    ).save()
    assert gp.reference("Task", task.id).to_resource()["status"] == "on-hold"
    exchanges = gp.resources("Communication").search(**{"part-of": f"Task/{task.id}"}).fetch_all()
    assert [c["category"][0]["coding"][0]["code"] for c in exchanges] == [
        "question",
        "claimed",
        "info_request",
    ]
    assert exchanges[-1]["payload"][0]["contentString"] == "Diamètre ? Photo dermatoscopique ?"
    gp.resource(
        "Communication",
        status="completed",
        partOf=[{"reference": f"Task/{task.id}"}],
        inResponseTo=[{"reference": f"Communication/{exchanges[-1].id}"}],
        payload=[
            {"contentString": "8 mm, bords irréguliers."},
            {
                "contentAttachment": {
                    "contentType": "application/pdf",
                    "title": "dermoscopie.pdf",
                    "data": base64.b64encode(PDF).decode(),
                }
            },
        ],
    ).save()
    mine = dermatologist.reference("Task", task.id).to_resource()
    assert mine["status"] == "accepted"  # the clock runs again

    # The GP may not complete it; a stranger may not even see it.
    conclusion = {
        "type": {"coding": [{"system": OUTPUT_SYSTEM, "code": "conclusion"}]},
        "valueString": "Rien de grave.",
    }
    with pytest.raises(ResourceNotFound):
        gp.patch("Task", task.id, status="completed", output=[conclusion])
    with pytest.raises(ResourceNotFound):
        stranger.reference("ServiceRequest", asked.id).to_resource()

    # She concludes: the Task completed with the conclusion and the recommendation.
    mine["status"] = "completed"
    mine["output"] = [
        {
            "type": {"coding": [{"system": OUTPUT_SYSTEM, "code": "conclusion"}]},
            "valueString": "Naevus atypique : exérèse recommandée en consultation.",
        },
        {
            "type": {"coding": [{"system": OUTPUT_SYSTEM, "code": "recommendation"}]},
            "valueCodeableConcept": {
                "coding": [{"system": RECOMMENDATION_SYSTEM, "code": "consultation"}]
            },
        },
    ]
    mine.save()
    assert mine["status"] == "completed"

    # The GP finds the opinion filed in the record, from the Task's output.
    done = gp.reference("Task", task.id).to_resource()
    opinion = next(o for o in done["output"] if o["type"]["coding"][0]["code"] == "opinion")
    document = gp.reference(reference=opinion["valueReference"]["reference"]).to_resource()
    assert document["subject"]["reference"] == patient
    assert document["content"][0]["attachment"]["contentType"] == "application/pdf"
    assert gp.reference("ServiceRequest", asked.id).to_resource()["status"] == "completed"
    request = Request.objects.get()
    assert (request.status, request.recommendation) == (
        Status.CONCLUDED,
        Recommendation.CONSULTATION,
    )
    assert (
        request.opinion is not None
        and str(request.opinion.uuid) in opinion["valueReference"]["reference"]
    )
    # Each refusal on the way left its trace on the patient.
    refused = AuditEntry.objects.filter(patient=personas.patient, outcome=Outcome.DENIED)
    assert refused.filter(action=Action.EXPERTISE_WRITE, actor=gp_entry.user).exists()
    assert refused.filter(action=Action.EXPERTISE_READ, actor=dermatology.second.user).exists()


@pytest.mark.usefixtures("private_files")
def test_fhirpy_sees_the_refusals_as_operation_outcomes(live_url, personas, dermatology):
    gp = client(live_url, personas.treating_doctor)

    with pytest.raises(OperationOutcome) as refused:
        gp.resource(
            "ServiceRequest",
            status="active",
            intent="order",
            subject={"reference": f"Patient/{personas.patient.uuid}"},
            performer=[pool_performer(dermatology.pool)],
            note=[{"text": QUESTION}],
        ).save()

    assert "consentement" in str(refused.value)
    assert not Request.objects.exists()
