from __future__ import annotations

import uuid

from maillage.directory.models import Practice
from maillage.fhir.systems import TELEEXPERTISE_EXTENSION
from maillage.fhir.tests.conftest import extension, fhir_json


def test_it_reads_a_practitioner_role_with_its_teleexpertise_commitment(api, personas):
    cardiologist = personas.cardiologist
    cardiologist.accepts_teleexpertise = True
    cardiologist.teleexpertise_response_hours = 48
    cardiologist.save()
    practice = Practice.objects.get(professional=cardiologist)

    response = api.get(f"PractitionerRole/{practice.uuid}", personas.treating_doctor)

    assert response.status_code == 200
    resource = fhir_json(response)
    assert resource["practitioner"]["reference"] == f"Practitioner/{cardiologist.uuid}"
    assert resource["organization"]["reference"] == f"Organization/{personas.hospital.uuid}"
    assert resource["location"][0]["reference"] == f"Location/{personas.hospital.uuid}"
    assert resource["code"][0]["coding"][0]["code"] == "10"
    assert resource["specialty"][0]["coding"][0]["code"] == "SM04"
    teleexpertise = extension(resource, TELEEXPERTISE_EXTENSION)
    assert teleexpertise["extension"] == [
        {"url": "available", "valueBoolean": True},
        {
            "url": "responseTime",
            "valueDuration": {
                "value": 48,
                "unit": "h",
                "system": "http://unitsofmeasure.org",
                "code": "h",
            },
        },
    ]


def test_it_says_when_a_professional_does_not_answer_teleexpertise(api, personas):
    practice = Practice.objects.filter(professional=personas.nurse).first()
    assert practice is not None

    resource = fhir_json(api.get(f"PractitionerRole/{practice.uuid}", personas.nurse))

    assert extension(resource, TELEEXPERTISE_EXTENSION)["extension"] == [
        {"url": "available", "valueBoolean": False}
    ]
    assert "specialty" not in resource
    assert resource["code"][0]["coding"][0]["code"] == "60"


def test_it_answers_404_to_an_unknown_role(api, personas):
    assert api.get(f"PractitionerRole/{uuid.uuid4()}", personas.nurse).status_code == 404
