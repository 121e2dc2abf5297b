"""The report in FHIR: a DocumentReference whose ``context.encounter`` is the teleconsultation."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from maillage.acts import actions
from maillage.acts.tests.conftest import CONTENT
from maillage.fhir.tests.conftest import Api, fhir_json

pytestmark = pytest.mark.django_db


def test_the_report_and_the_prescription_point_to_their_encounter(
    client: Client, personas: Any, call: Any
) -> None:
    api = Api(client)
    report = actions.close(personas.cardiologist.user, call.uuid, CONTENT)
    assert report.document is not None and report.prescription is not None

    read = fhir_json(api.get(f"DocumentReference/{report.document.uuid}", personas.treating_doctor))
    found = fhir_json(
        api.get(f"DocumentReference?patient={personas.patient.uuid}", personas.treating_doctor)
    )

    encounter = [{"reference": f"Encounter/{call.uuid}"}]
    assert read["context"]["encounter"] == encounter
    assert read["type"]["coding"][0]["code"] == "85208-7"  # LOINC: telemedicine report
    by_id = {e["resource"]["id"]: e["resource"] for e in found["entry"]}
    assert by_id[str(report.prescription.uuid)]["context"]["encounter"] == encounter


def test_a_document_of_no_act_has_no_encounter(client: Client, personas: Any, call: Any) -> None:
    from maillage.fhir.tests.conftest import document

    other = document(personas.treating_doctor, personas.patient)
    read = fhir_json(Api(client).get(f"DocumentReference/{other.uuid}", personas.treating_doctor))
    assert "encounter" not in read["context"]
