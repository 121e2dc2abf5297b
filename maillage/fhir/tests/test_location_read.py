from __future__ import annotations

import uuid

from maillage.directory.models import EquipmentKind, StructureEquipment
from maillage.fhir.systems import EQUIPMENT_EXTENSION
from maillage.fhir.tests.conftest import fhir_json


def test_it_reads_a_location_with_its_position_and_equipment(api, personas):
    unit = personas.mobile_unit
    for kind in (EquipmentKind.ECG, EquipmentKind.OXIMETER):
        StructureEquipment.objects.create(structure=unit, kind=kind)

    response = api.get(f"Location/{unit.uuid}", personas.regulator)

    assert response.status_code == 200
    resource = fhir_json(response)
    assert resource["name"] == "Unité mobile du Boischaut"
    assert resource["status"] == "active"
    assert resource["position"] == {"latitude": 46.82452, "longitude": 2.91385}
    assert resource["managingOrganization"]["reference"] == f"Organization/{unit.uuid}"
    assert resource["physicalType"]["coding"][0]["code"] == "ve"
    assert resource["address"]["city"] == "Sancoins"
    equipment = [e for e in resource["extension"] if e["url"] == EQUIPMENT_EXTENSION]
    assert [e["valueCodeableConcept"]["coding"][0]["code"] for e in equipment] == [
        "ecg",
        "oximeter",
    ]
    assert {e["valueCodeableConcept"]["coding"][0]["system"] for e in equipment} == {
        "https://maillage.example/fhir/CodeSystem/equipment"
    }


def test_it_answers_404_to_an_unknown_location(api, personas):
    assert api.get(f"Location/{uuid.uuid4()}", personas.nurse).status_code == 404
