from __future__ import annotations

import pytest

from maillage.fhir.systems import LOCATION_DISTANCE_EXTENSION
from maillage.fhir.tests.conftest import fhir_json, issues
from maillage.territory.distance import get_distance_provider
from maillage.testing import factories as f

SANCOINS = "46.82452|2.91385"


def _names(bundle):
    return [e["resource"]["name"] for e in bundle.get("entry", [])]


def _distances(bundle):
    return [
        next(x for x in e["search"]["extension"] if x["url"] == LOCATION_DISTANCE_EXTENSION)[
            "valueDistance"
        ]["value"]
        for e in bundle.get("entry", [])
    ]


def test_it_finds_places_within_a_distance_nearest_first(api, personas):
    near = fhir_json(api.get("Location", personas.nurse, data={"near": f"{SANCOINS}|30|km"}))
    wider = fhir_json(api.get("Location", personas.nurse, data={"near": f"{SANCOINS}|65|km"}))
    all_ = fhir_json(api.get("Location", personas.nurse, data={"near": f"{SANCOINS}|200"}))

    assert _names(near) == ["Maison de santé de Sancoins", "Unité mobile du Boischaut"]
    assert _names(wider) == [
        "Maison de santé de Sancoins",
        "Unité mobile du Boischaut",
        "Centre hospitalier de Bourges",
    ]
    assert _names(all_) == [*_names(wider), "Maison de santé de Lignières"]
    distances = _distances(all_)
    assert distances == sorted(distances)
    bourges = f.commune("18033").point
    expected = get_distance_provider().distance_km(f.commune("18242").point, bourges)
    assert distances[2] == pytest.approx(expected, abs=0.01)
    assert 30 < distances[2] < 65 < distances[3]


def test_it_pages_a_near_search(api, personas):
    bundle = fhir_json(
        api.get(
            "Location",
            personas.nurse,
            data={"near": f"{SANCOINS}|200|km", "_count": "3", "_offset": "2"},
        )
    )

    assert bundle["total"] == 4
    assert _names(bundle) == ["Centre hospitalier de Bourges", "Maison de santé de Lignières"]


def test_it_combines_near_with_other_parameters(api, personas):
    bundle = fhir_json(
        api.get(
            "Location",
            personas.nurse,
            data={"near": f"{SANCOINS}|200", "type": "msp", "name": "maison"},
        )
    )

    assert _names(bundle) == ["Maison de santé de Sancoins", "Maison de santé de Lignières"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {},
            [
                "Centre hospitalier de Bourges",
                "Maison de santé de Lignières",
                "Maison de santé de Sancoins",
                "Unité mobile du Boischaut",
            ],
        ),
        ({"name": "boischaut"}, ["Unité mobile du Boischaut"]),
        (
            {"address-city": "sancoins"},
            ["Maison de santé de Sancoins", "Unité mobile du Boischaut"],
        ),
        ({"type": "mobile_unit"}, ["Unité mobile du Boischaut"]),
    ],
)
def test_it_searches_by_name_city_and_type(api, personas, params, expected):
    assert _names(fhir_json(api.get("Location", personas.nurse, data=params))) == expected


def test_it_searches_by_organization(api, personas):
    organization = f"Organization/{personas.msp.uuid}"

    bundle = fhir_json(api.get("Location", personas.nurse, data={"organization": organization}))

    assert _names(bundle) == ["Maison de santé de Sancoins"]


@pytest.mark.parametrize(
    "near",
    [
        "46.8",
        "north|2.9|10",
        "46.8|2.9|10|mi",
        "46.8|2.9|-5|km",
        "46.8|2.9|0",
        "96.8|2.9|10",
        "46.8|2.9|nan",
        "46.8|2.9|5000",
        "46.8|2.9|10|km|extra",
    ],
)
def test_it_refuses_a_malformed_near(api, personas, near):
    response = api.get("Location", personas.nurse, data={"near": near})

    assert response.status_code == 400
    assert "near" in issues(response)[0]["diagnostics"]


def test_it_refuses_two_near_parameters(api, personas):
    response = api.get(
        "Location", personas.nurse, data={"near": [f"{SANCOINS}|10", f"{SANCOINS}|20"]}
    )

    assert response.status_code == 400


def test_it_lists_a_page_in_a_fixed_number_of_queries(api, personas, django_assert_max_num_queries):
    token = api.token(personas.nurse)

    with django_assert_max_num_queries(4):
        response = api.client.get(
            "/fhir/r4/Location", {"near": f"{SANCOINS}|200"}, HTTP_AUTHORIZATION=f"Bearer {token}"
        )

    assert fhir_json(response)["total"] == 4
