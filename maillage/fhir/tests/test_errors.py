"""Every error path answers an OperationOutcome, never an HTML page."""

from __future__ import annotations

from random import Random
from urllib.parse import urlencode

import pytest

from maillage.fhir import routes, views
from maillage.fhir.router import Interaction, Route, Router
from maillage.fhir.tests.conftest import issues


def test_it_answers_a_bug_with_an_operation_outcome(api, personas, monkeypatch, caplog):
    def broken(call):
        raise RuntimeError("a bug")

    patched = tuple(
        Route(r.interaction, broken, r.resource_type, r.search_params, public=r.public)
        if r.resource_type == "Practitioner"
        else r
        for r in routes.ROUTES
    )
    monkeypatch.setattr(views, "ROUTER", Router(patched, routes.authenticate))

    response = api.get("Practitioner", personas.nurse)

    assert response.status_code == 500
    assert issues(response)[0]["code"] == "exception"
    assert "a bug" not in response.content.decode()
    assert "FHIR GET /fhir/r4/Practitioner failed" in caplog.text


def test_it_refuses_a_body_too_large(api, personas, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = api.post(
        "Patient", {"resourceType": "Patient", "x": "y" * 200}, personas.treating_doctor
    )

    assert response.status_code == 413
    assert issues(response)[0]["code"] == "too-costly"


def test_it_answers_the_base_url_in_fhir(api, personas):
    # The base takes a batch or transaction Bundle, by POST only.
    response = api.client.get("/fhir/r4/")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert issues(response)[0]["code"] == "not-supported"


def test_it_answers_a_trailing_slash_like_the_plain_path(api, personas):
    response = api.get("Practitioner/", personas.nurse)

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("Patient", {"family": "gi\x00"}),
        ("Patient", {"given": "\x00"}),
        ("Patient", {"identifier": "urn:oid:1.2.250.1.213.1.4.10|\x00"}),
        ("Practitioner", {"identifier": "\x00"}),
        ("Organization", {"address-city": "b\x00"}),
        ("Location", {"name": "\x00", "near": "46.8|2.9|10"}),
    ],
)
def test_it_refuses_nul_characters_in_parameters(api, personas, path, params):
    response = api.get(path, personas.coordinator, data=params)

    assert response.status_code == 400


def test_it_refuses_nul_characters_in_a_body(api, personas):
    body = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Nul\u0000", "given": ["Paul"]}],
        "gender": "male",
        "birthDate": "1960-05-02",
        "address": [{"city": "Bourges\u0000"}],
    }

    response = api.post("Patient", body, personas.treating_doctor)

    assert response.status_code == 400


@pytest.mark.parametrize("resource_id", ["%00", "a" * 65, "a%20b"])
def test_it_answers_404_to_what_cannot_be_an_id(api, personas, resource_id):
    response = api.get(f"Patient/{resource_id}", personas.treating_doctor)

    assert response.status_code == 404
    assert issues(response)[0]["code"] == "not-found"


ODD_VALUES = [
    "",
    " ",
    "|",
    "|||",
    "a|b|c|d|e",
    "\\",
    "\\,",
    ",,",
    "é",
    "😀",
    "-1",
    "1e309",
    "9" * 30,
    "NaN",
    "gt",
    "ge1948-02-30",
    "9999",
    "0000",
    "eq9999-12-31",
    "Practitioner/",
    "/",
    "http://x/Organization/3f2b1c9e-0000-4000-8000-000000000000",
    "|123",
    "x" * 5000,
    "'; drop table x;--",
    "90|180|1000|km",
    "-90|-180|0.0001",
    "1|2||km",
    "1|2|3|",
]


# Searches through a patient gate refuse a patient they may not see (404) or a
# role that may never search them (403); the directory searches refuse nothing.
# A tele-expertise is searched by the roles that take part in one (403 for others),
# its conversation too (Communication by part-of). Readings and media are a patient's.
GATED = {
    "DocumentReference",
    "Consent",
    "AuditEvent",
    "ServiceRequest",
    "Task",
    "Encounter",
    "Observation",
    "Media",
}


def test_it_never_fails_on_odd_search_values(api, personas):
    random = Random(20260101)
    token = api.token(personas.coordinator)
    failures = []
    for route in routes.ROUTES:
        if route.interaction is not Interaction.SEARCH_TYPE:
            continue
        names = [p.name for p in route.search_params] + ["_count", "_offset"]
        for _ in range(60):  # per route: the values are few, the pairs drawn from a fixed seed
            params = [(random.choice(names), random.choice(ODD_VALUES)) for _ in range(2)]
            response = api.client.get(
                f"/fhir/r4/{route.resource_type}?{urlencode(params)}",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
            expected = {200, 400} | ({403, 404} if route.resource_type in GATED else set())
            if any(name == "part-of" for name, _value in params):
                expected.add(403)
            if response.status_code not in expected:
                failures.append((route.resource_type, params, response.status_code))
    assert not failures


@pytest.mark.parametrize("who", ["patient_user", "treating_doctor"])
def test_it_never_fails_on_odd_values_of_the_record_searches(api, personas, who):
    random = Random(20261123)
    token = api.token(personas.user(who))
    failures = []
    for route in routes.ROUTES:
        if route.interaction is not Interaction.SEARCH_TYPE or route.resource_type not in GATED:
            continue
        names = [p.name for p in route.search_params if p.name != "patient"] + ["_count"]
        for _ in range(60):
            params = [("patient", str(personas.patient.uuid))]
            params += [(random.choice(names), random.choice(ODD_VALUES)) for _ in range(2)]
            response = api.client.get(
                f"/fhir/r4/{route.resource_type}?{urlencode(params)}",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
            if response.status_code not in (200, 400, 403, 404):
                failures.append((route.resource_type, params, response.status_code))
    assert not failures


def test_it_refuses_a_body_nested_too_deep(api, personas):
    response = api.post("Patient", '{"a":' * 5000 + "1" + "}" * 5000, personas.treating_doctor)

    assert response.status_code == 400


def test_it_refuses_too_many_parameters(api, personas, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5

    response = api.get("Practitioner?" + "&".join(f"name=a{i}" for i in range(10)), personas.nurse)

    assert response.status_code == 400
    assert issues(response)[0]["code"] == "invalid"
