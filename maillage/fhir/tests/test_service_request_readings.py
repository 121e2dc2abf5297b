"""POST and read ServiceRequest with readings as its context (supportingInfo Observation)."""

from __future__ import annotations

from typing import Any

import pytest

from maillage.expertise.models import Request
from maillage.fhir.tests.conftest import fhir_json, issues
from maillage.fhir.tests.expertise_helpers import pool_performer, service_request
from maillage.measurements import actions as measurements
from maillage.measurements.tests.conftest import blood_pressure, spo2
from maillage.testing import factories as f

pytestmark = pytest.mark.usefixtures("private_files")


def _asked_with(api: Any, personas: Any, dermatology: Any, reference: str) -> Any:
    """POST a question to the dermatology pool with one supportingInfo reference."""
    body = service_request(
        personas, pool_performer(dermatology.pool), supportingInfo=[{"reference": reference}]
    )
    return api.post("ServiceRequest", body, personas.treating_doctor)


def test_fhir_shares_readings_as_observations_and_shows_them(
    api: Any, personas: Any, dermatology: Any
) -> None:
    gp = personas.treating_doctor.user
    pressure = measurements.record_observation(gp, personas.patient, blood_pressure("152", "94"))
    saturation = measurements.record_observation(gp, personas.patient, spo2("91"))
    response = _asked_with(api, personas, dermatology, f"Observation/{pressure.uuid}")
    assert response.status_code == 201, response.content
    created = fhir_json(response)
    assert created["supportingInfo"] == [{"reference": f"Observation/{pressure.uuid}"}]
    item = Request.objects.get()
    assert list(item.readings.all()) == [pressure]
    read = fhir_json(api.get(f"ServiceRequest/{item.uuid}", dermatology.first))
    assert read["supportingInfo"] == [{"reference": f"Observation/{pressure.uuid}"}]

    # Another patient's reading is refused at the element; nothing is created.
    other = f.patient("Autre", "Patient", treating_doctor=personas.treating_doctor)
    elsewhere = measurements.record_observation(gp, other, blood_pressure())
    refused = _asked_with(api, personas, dermatology, f"Observation/{elsewhere.uuid}")
    assert refused.status_code == 422
    assert issues(refused)[0]["expression"] == ["ServiceRequest.supportingInfo"]
    assert Request.objects.count() == 1
    # What is neither a document nor a reading is said.
    wrong = _asked_with(api, personas, dermatology, f"Patient/{personas.patient.uuid}")
    assert wrong.status_code == 422
    assert issues(wrong)[0]["expression"] == ["ServiceRequest.supportingInfo[0]"]
    # The reading not shared is in no answer.
    assert str(saturation.uuid) not in response.content.decode()
