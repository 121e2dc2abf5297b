from __future__ import annotations

import pytest

from maillage.directory.models import FinessType, StructureKind
from maillage.fhir.tests.conftest import fhir_json
from maillage.lib.identifiers import finess_check_digit, luhn_check_digit
from maillage.testing import factories as f

FINESS = "18000003" + finess_check_digit("18000003")
SIRET = "2618001230001" + luhn_check_digit("2618001230001")
KINDS = "https://maillage.example/fhir/CodeSystem/structure-kind"


@pytest.fixture
def vierzon(personas):
    return f.structure(
        "Centre hospitalier de Vierzon",
        StructureKind.HOSPITAL,
        "18279",
        finess=FINESS,
        finess_type=FinessType.GEOGRAPHIC,
        siret=SIRET,
    )


def _names(bundle):
    return [e["resource"]["name"] for e in bundle.get("entry", [])]


@pytest.mark.parametrize(
    "identifier",
    [
        f"https://finess.esante.gouv.fr|{FINESS}",
        f"urn:oid:1.2.250.1.71.4.2.2|1{FINESS}",
        f"https://sirene.fr|{SIRET}",
        FINESS,
        SIRET,
    ],
)
def test_it_searches_by_identifier(api, personas, vierzon, identifier):
    bundle = fhir_json(api.get("Organization", personas.nurse, data={"identifier": identifier}))

    assert _names(bundle) == ["Centre hospitalier de Vierzon"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"name": "sancoins"}, ["Maison de santé de Sancoins"]),
        ({"name": "maison"}, ["Maison de santé de Lignières", "Maison de santé de Sancoins"]),
        ({"name": "sante de l"}, ["Maison de santé de Lignières"]),
        ({"type": "hospital"}, ["Centre hospitalier de Bourges", "Centre hospitalier de Vierzon"]),
        ({"type": f"{KINDS}|mobile_unit"}, ["Unité mobile du Boischaut"]),
        ({"type": "other|hospital"}, []),
        ({"address-city": "BOURGES"}, ["Centre hospitalier de Bourges"]),
        ({"address-city": "lignieres"}, ["Maison de santé de Lignières"]),
        ({"address-city": "sancoins", "type": "msp"}, ["Maison de santé de Sancoins"]),
    ],
)
def test_it_searches_by_name_type_and_city(api, personas, vierzon, params, expected):
    bundle = fhir_json(api.get("Organization", personas.nurse, data=params))

    assert _names(bundle) == expected
    assert bundle["total"] == len(expected)
