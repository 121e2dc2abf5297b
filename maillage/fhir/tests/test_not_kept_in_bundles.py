"""What a create did not keep is said inside a Bundle and by import_fhir too, not only
in the Warning header of a create on its own."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

from django.core.management import call_command

from maillage.fhir.tests.conftest import fhir_json

SYNTHEA = sorted((Path(__file__).resolve().parents[4] / "shared/data/synthea").glob("*.json"))


def _synthea_patient() -> dict[str, Any]:
    bundle = json.loads(SYNTHEA[0].read_text())
    return next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )


def test_a_transaction_entry_names_what_it_did_not_keep(api, personas):
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:4b2c4f0e-8d1a-4c55-9f54-0c1c2f6c7b11",
                "resource": _synthea_patient(),
                "request": {"method": "POST", "url": "Patient"},
            }
        ],
    }

    response = api.client.post(
        "/fhir/r4",
        json.dumps(bundle),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {api.token(personas.treating_doctor)}",
    )

    assert response.status_code == 200
    (entry,) = fhir_json(response)["entry"]
    assert entry["response"]["status"].startswith("201")
    assert entry["resource"]["resourceType"] == "Patient"
    issues = entry["response"]["outcome"]["issue"]
    assert {i["severity"] for i in issues} == {"warning"}
    paths = {e for i in issues for e in i["expression"]}
    assert {"Patient.meta.tag", "Patient.text", "Patient.address[0].extension[0]"} <= paths
    # What was kept is in the resource, as sent.
    assert entry["resource"]["address"][0]["country"] == "US"


def test_import_fhir_names_the_elements_it_did_not_keep(personas):
    out = StringIO()

    call_command("import_fhir", str(SYNTHEA[0]), "--as", personas.coordinator.username, stdout=out)

    output = out.getvalue()
    assert "Created: Patient 1." in output
    (line,) = [
        x for x in output.splitlines() if x.strip().startswith("Patient: received, not kept")
    ]
    for path in ("Patient.meta.tag", "Patient.text", "Patient.address[0].extension[0]"):
        assert path in line
    # Every extension: Synthea's birth place has no INSEE code, the only part a record keeps.
    for position in range(len(_synthea_patient()["extension"])):
        assert f"Patient.extension[{position}]" in line
