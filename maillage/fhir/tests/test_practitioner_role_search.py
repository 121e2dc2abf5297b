from __future__ import annotations

import pytest

from maillage.directory.terminology import Specialty
from maillage.fhir.tests.conftest import fhir_json, issues
from maillage.testing import factories as f

R38 = "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"


def _roles(bundle):
    return sorted(
        (e["resource"]["practitioner"]["display"], e["resource"]["organization"]["display"])
        for e in bundle.get("entry", [])
    )


def test_it_searches_by_practitioner_and_organization(api, personas):
    nurse = personas.nurse

    practitioner = f"Practitioner/{nurse.uuid}"
    organization = f"Organization/{personas.msp.uuid}"

    by_practitioner = fhir_json(
        api.get("PractitionerRole", personas.analyst, data={"practitioner": practitioner})
    )
    both = fhir_json(
        api.get(
            "PractitionerRole",
            personas.analyst,
            data={"practitioner": str(nurse.uuid), "organization": organization},
        )
    )

    assert _roles(by_practitioner) == [
        ("Inès Roux", "Maison de santé de Sancoins"),
        ("Inès Roux", "Unité mobile du Boischaut"),
    ]
    assert _roles(both) == [("Inès Roux", "Maison de santé de Sancoins")]


def test_it_finds_renamed_specialties_too(api, personas):
    f.professional(
        None, last_name="Petit", specialty=Specialty.CARDIOVASCULAR, structures=(personas.hospital,)
    )

    bundle = fhir_json(
        api.get("PractitionerRole", personas.nurse, data={"specialty": f"{R38}|SM73"})
    )

    assert _roles(bundle) == [
        ("Dr Camille Petit", "Centre hospitalier de Bourges"),
        ("Dr Hugo Lefèvre", "Centre hospitalier de Bourges"),
    ]


def test_it_searches_by_profession(api, personas):
    bundle = fhir_json(api.get("PractitionerRole", personas.nurse, data={"role": "60"}))

    assert bundle["total"] == 2
    assert {name for name, _ in _roles(bundle)} == {"Inès Roux"}


def test_it_matches_nothing_for_an_id_that_is_not_ours(api, personas):
    bundle = fhir_json(api.get("PractitionerRole", personas.nurse, data={"practitioner": "abc"}))

    assert bundle["total"] == 0


@pytest.mark.parametrize(
    "params",
    [{"practitioner": "Organization/abc"}, {"organization": "Practitioner/abc"}, {"near": "1|2"}],
)
def test_it_refuses_wrong_parameters(api, personas, params):
    response = api.get("PractitionerRole", personas.nurse, data=params)

    assert response.status_code == 400
    assert next(iter(params)) in issues(response)[0]["diagnostics"]
