from __future__ import annotations

import pytest

from maillage.fhir.tests.conftest import issues


def test_it_answers_405_with_allow_to_an_unsupported_method(api, personas):
    response = api.client.delete(
        f"/fhir/r4/Patient/{personas.patient.uuid}",
        HTTP_AUTHORIZATION=f"Bearer {api.token(personas.treating_doctor)}",
    )

    assert response.status_code == 405
    assert response["Allow"] == "GET, PATCH, PUT"
    assert issues(response)[0]["code"] == "not-supported"


def test_it_answers_405_to_post_on_a_read_only_type(api, personas):
    response = api.post("Practitioner", {"resourceType": "Practitioner"}, personas.nurse)

    assert response.status_code == 405
    assert response["Allow"] == "GET"


@pytest.mark.parametrize("accept", ["application/xml", "text/html", "application/fhir+json;q=0"])
def test_it_answers_406_when_accept_excludes_json(api, personas, accept):
    response = api.get("Practitioner", personas.nurse, HTTP_ACCEPT=accept)

    assert response.status_code == 406
    assert issues(response)[0]["code"] == "not-supported"


@pytest.mark.parametrize(
    "accept",
    ["application/fhir+json", "application/json", "text/html,application/xhtml+xml,*/*;q=0.8"],
)
def test_it_answers_clients_that_accept_json(api, personas, accept):
    response = api.get("Practitioner", personas.nurse, HTTP_ACCEPT=accept)

    assert response.status_code == 200


def test_it_answers_406_to_an_xml_format(api, personas):
    response = api.get("Practitioner", personas.nurse, data={"_format": "xml"})

    assert response.status_code == 406


def test_it_accepts_a_json_format(api, personas):
    response = api.get("Practitioner", personas.nurse, data={"_format": "json"})

    assert response.status_code == 200


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/fhir+xml"])
def test_it_answers_415_to_a_body_that_is_not_json(api, personas, content_type):
    response = api.post(
        "Patient", "<Patient/>", personas.treating_doctor, content_type=content_type
    )

    assert response.status_code == 415


def test_it_accepts_plain_json(api, personas):
    response = api.post("Patient", "{}", personas.treating_doctor, content_type="application/json")

    assert response.status_code == 400  # the body, not its type


def test_it_answers_404_in_fhir_to_an_unknown_resource_type(api, personas):
    response = api.get("Condition", personas.treating_doctor)

    assert response.status_code == 404
    assert issues(response)[0]["code"] == "not-supported"


def test_it_answers_404_in_fhir_to_an_unknown_path(api, personas):
    response = api.get(f"Patient/{personas.patient.uuid}/photos", personas.treating_doctor)

    assert response.status_code == 404
    assert issues(response)[0]["code"] == "not-found"


def test_it_refuses_parameters_on_a_read(api, personas):
    response = api.get(
        f"Practitioner/{personas.cardiologist.uuid}", personas.nurse, data={"_elements": "name"}
    )

    assert response.status_code == 400
    assert "_elements" in issues(response)[0]["diagnostics"]
