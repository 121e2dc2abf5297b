from __future__ import annotations

import pytest

from maillage.fhir.tests.conftest import fhir_json, issues


def _names(bundle):
    return [e["resource"]["name"][0]["family"] for e in bundle.get("entry", [])]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["Lefèvre", "Morel", "Roux"]),
        ({"name": "lefevre"}, ["Lefèvre"]),
        ({"name": "CLAIRE"}, ["Morel"]),
        ({"family": "mor"}, ["Morel"]),
        ({"family": "claire"}, []),
        ({"given": "ines"}, ["Roux"]),
        ({"name": "hugo,ines"}, ["Lefèvre", "Roux"]),
        ({"name": "hugo", "family": "roux"}, []),
    ],
)
def test_it_searches_by_name_ignoring_accents_and_case(api, personas, params, expected):
    bundle = fhir_json(api.get("Practitioner", personas.analyst, data=params))

    assert _names(bundle) == expected
    assert bundle["total"] == len(expected)


def test_it_searches_by_rpps_and_idnps(api, personas):
    rpps = personas.treating_doctor.rpps

    for identifier in (
        f"https://rpps.esante.gouv.fr|{rpps}",
        f"urn:oid:1.2.250.1.71.4.2.1|8{rpps}",
        rpps,
        f"8{rpps}",
    ):
        bundle = fhir_json(api.get("Practitioner", personas.nurse, data={"identifier": identifier}))
        assert _names(bundle) == ["Morel"], identifier
    other = fhir_json(api.get("Practitioner", personas.nurse, data={"identifier": f"x|{rpps}"}))
    assert other["total"] == 0


def test_it_pages_a_name_search(api, personas):
    bundle = fhir_json(
        api.get("Practitioner", personas.nurse, data={"name": "hugo,ines,claire", "_count": "2"})
    )

    assert bundle["total"] == 3
    assert _names(bundle) == ["Lefèvre", "Morel"]
    next_link = next(link["url"] for link in bundle["link"] if link["relation"] == "next")
    assert next_link.endswith("Practitioner?name=hugo,ines,claire&_count=2&_offset=2")


def test_it_refuses_an_unknown_parameter(api, personas):
    response = api.get("Practitioner", personas.nurse, data={"specialty": "SM04"})

    assert response.status_code == 400
    assert "specialty" in issues(response)[0]["diagnostics"]
