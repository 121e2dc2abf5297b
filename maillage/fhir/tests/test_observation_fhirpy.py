"""A device hub through fhirpy, unchanged, against the real server (uvicorn serving the app).

The hub runs under the account of the nurse beside the patient in an
assisted act: it posts a blood pressure for the act (Observation.encounter),
reads it back and finds it by patient and by code; its post for an act it
has no place in is refused as "not found", and nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import ResourceNotFound

from maillage.accounts.actions import create_api_token
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.measurements.models import Observation
from maillage.measurements.tests import conftest as measuring

# The assisted act and another patient's act, shared with the measurements' tests.
act = measuring.act
other_act = measuring.other_act

MDC = "urn:iso:std:iso:11073:10101"
UCUM = "http://unitsofmeasure.org"


def client(live_url: str, user: Any) -> SyncFHIRClient:
    token = create_api_token(user, label="device hub")
    return SyncFHIRClient(f"{live_url}/fhir/r4", authorization=f"Bearer {token}")


def pressure(hub: SyncFHIRClient, patient: Any, consultation: Any) -> Any:
    return hub.resource(
        "Observation",
        status="final",
        code={"coding": [{"system": MDC, "code": "150020"}]},
        subject={"reference": f"Patient/{patient.uuid}"},
        encounter={"reference": f"Encounter/{consultation.uuid}"},
        effectiveDateTime=(timezone.now() - dt.timedelta(minutes=1)).isoformat(),
        component=[
            {
                "code": {"coding": [{"system": MDC, "code": "150021"}]},
                "valueQuantity": {"value": 131, "system": UCUM, "code": "mm[Hg]"},
            },
            {
                "code": {"coding": [{"system": MDC, "code": "150022"}]},
                "valueQuantity": {"value": 84, "system": UCUM, "code": "mm[Hg]"},
            },
        ],
    )


def test_a_device_hub_posts_reads_and_searches_its_acts_readings(
    live_url, personas, act, other_act
) -> None:
    hub = client(live_url, personas.nurse.user)
    posted = pressure(hub, personas.patient, act)
    posted.save()
    assert posted.id and posted["meta"]["versionId"] == "1"

    again = hub.reference("Observation", posted.id).to_resource()
    assert again["code"]["coding"][0]["code"] == "85354-9"
    assert [c["valueQuantity"]["value"] for c in again["component"]] == [131, 84]
    found = (
        hub.resources("Observation")
        .search(patient=f"Patient/{personas.patient.uuid}", code="http://loinc.org|85354-9")
        .fetch_all()
    )
    assert [o.id for o in found] == [posted.id]
    by_act = hub.resources("Observation").search(encounter=f"Encounter/{act.uuid}").fetch_all()
    assert [o.id for o in by_act] == [posted.id]
    assert (
        hub.resources("Observation")
        .search(patient=f"Patient/{personas.patient.uuid}", code="8867-4")
        .fetch_all()
        == []
    )

    # The other patient's act: the hub's account has no place in it.
    with pytest.raises(ResourceNotFound):
        pressure(hub, other_act.patient, other_act).save()
    assert Observation.objects.count() == 1
    refused = AuditEntry.objects.get(
        action=Action.OBSERVATION_WRITE, actor=personas.nurse.user, outcome=Outcome.DENIED
    )
    assert refused.patient == other_act.patient
