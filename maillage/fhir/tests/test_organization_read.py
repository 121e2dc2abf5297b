from __future__ import annotations

import uuid

from maillage.directory.models import FinessType, StructureKind
from maillage.fhir.systems import EMAIL_TYPE_EXTENSION, INSEE_CODE_EXTENSION
from maillage.fhir.tests.conftest import extension, fhir_json
from maillage.lib.identifiers import finess_check_digit, luhn_check_digit
from maillage.testing import factories as f

FINESS = "18000003" + finess_check_digit("18000003")
SIRET = "2618001230001" + luhn_check_digit("2618001230001")


def test_it_reads_an_organization_with_its_identifiers(api, personas):
    hospital = f.structure(
        "Centre hospitalier de Vierzon",
        StructureKind.HOSPITAL,
        "18279",
        finess=FINESS,
        finess_type=FinessType.GEOGRAPHIC,
        siret=SIRET,
        address_line="33 rue Léo Mérigot",
        postal_code="18100",
        phone="0248484848",
        secure_messaging_address="ch@vierzon.mssante.fr",
    )

    response = api.get(f"Organization/{hospital.uuid}", personas.patient_user)

    assert response.status_code == 200
    resource = fhir_json(response)
    assert resource["name"] == "Centre hospitalier de Vierzon"
    identifiers = [
        (i["type"]["coding"][0]["code"], i["system"], i["value"]) for i in resource["identifier"]
    ]
    assert identifiers == [
        ("FINEG", "https://finess.esante.gouv.fr", FINESS),
        ("IDNST", "urn:oid:1.2.250.1.71.4.2.2", "1" + FINESS),
        ("SIRET", "https://sirene.fr", SIRET),
    ]
    assert resource["type"][0]["coding"][0]["code"] == "hospital"
    (address,) = resource["address"]
    assert (address["line"], address["postalCode"], address["city"]) == (
        ["33 rue Léo Mérigot"],
        "18100",
        "Vierzon",
    )
    assert extension(address, INSEE_CODE_EXTENSION)["valueCoding"]["code"] == "18279"
    phone, email = resource["telecom"]
    assert phone == {"system": "phone", "value": "0248484848", "use": "work"}
    assert extension(email, EMAIL_TYPE_EXTENSION)["valueCoding"]["code"] == "MSSANTE"


def test_it_answers_404_to_an_unknown_organization(api, personas):
    assert api.get(f"Organization/{uuid.uuid4()}", personas.nurse).status_code == 404
