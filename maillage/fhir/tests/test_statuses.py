"""What the server does not support is said so: 406 for another FHIR version, 501 for
operations and history it lacks, 405 with Allow for a method; never a 404 that would
make a client think the resource is missing, never R4 sent to a client asking for R3."""

from __future__ import annotations

import pytest

from maillage.audit.models import AuditEntry
from maillage.fhir.tests.conftest import issues


@pytest.mark.parametrize(
    "accept",
    [
        "application/fhir+json; fhirVersion=3.0",
        "application/fhir+json;fhirversion=1.0",
        'application/json; fhirVersion="5.0"',
        "application/fhir+json; fhirVersion=3.0, application/xml",
    ],
)
def test_it_answers_406_to_another_fhir_version_in_accept(api, personas, accept):
    response = api.get(
        f"Patient/{personas.patient.uuid}", personas.treating_doctor, HTTP_ACCEPT=accept
    )

    assert response.status_code == 406
    issue = issues(response)[0]
    assert issue["code"] == "not-supported"
    assert "Ce serveur ne parle que FHIR R4 (fhirVersion=4.0)" in issue["diagnostics"]
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    "accept",
    [
        "application/fhir+json; fhirVersion=4.0",
        "application/fhir+json; fhirVersion=4.0.1",
        "application/fhir+json",
        "application/fhir+json; fhirVersion=3.0, application/fhir+json; fhirVersion=4.0",
        "",
    ],
)
def test_it_answers_r4_when_r4_or_no_version_is_asked_for(api, personas, accept):
    response = api.get(
        f"Patient/{personas.patient.uuid}", personas.treating_doctor, HTTP_ACCEPT=accept
    )

    assert response.status_code == 200
    assert response.json()["resourceType"] == "Patient"


def test_it_answers_406_to_another_fhir_version_in_format(api, personas):
    response = api.get(
        "Practitioner",
        personas.nurse,
        data={"_format": "application/fhir+json; fhirVersion=3.0"},
        HTTP_ACCEPT="application/fhir+json; fhirVersion=4.0",
    )

    assert response.status_code == 406
    assert "fhirVersion=3.0" in issues(response)[0]["diagnostics"]


def test_a_format_of_r4_overrides_an_accept_of_another_version(api, personas):
    response = api.get(
        "Practitioner",
        personas.nurse,
        data={"_format": "application/fhir+json; fhirVersion=4.0"},
        HTTP_ACCEPT="application/fhir+json; fhirVersion=3.0",
    )

    assert response.status_code == 200


def test_it_refuses_a_body_of_another_fhir_version(api, personas):
    response = api.post(
        "Patient",
        {"resourceType": "Patient"},
        personas.treating_doctor,
        content_type="application/fhir+json; fhirVersion=3.0",
    )

    assert response.status_code == 415
    assert "fhirVersion=3.0" in issues(response)[0]["diagnostics"]


def test_a_version_quoted_back_is_cut_short(api, personas):
    response = api.get(
        "Practitioner",
        personas.nurse,
        HTTP_ACCEPT="application/fhir+json; fhirVersion=" + "9" * 500,
    )

    assert response.status_code == 406
    assert len(issues(response)[0]["diagnostics"]) < 200


@pytest.mark.parametrize(
    "path",
    [
        "Patient/{id}/$everything",
        "Patient/$validate",
        "Patient/{id}/$validate",
        "Patient/$match",
        "$reindex",
        "DocumentReference/$export",
        "$convert",
        "DocumentReference/$docref",
        "Practitioner/{doctor}/$meta",
    ],
)
def test_it_answers_501_to_an_operation_it_does_not_have(api, personas, path):
    url = path.format(id=personas.patient.uuid, doctor=personas.treating_doctor.uuid)
    api.token(personas.treating_doctor)  # issuing a token is audited itself
    before = AuditEntry.objects.count()

    get = api.get(url, personas.treating_doctor)
    post = api.post(url, {"resourceType": "Parameters"}, personas.treating_doctor)

    for response in (get, post):
        assert response.status_code == 501, url
        issue = issues(response)[0]
        assert issue["code"] == "not-supported"
        operation = url.rsplit("/", 1)[-1]
        assert issue["diagnostics"] == (
            f"L'opération {operation} n'est pas prise en charge par ce serveur."
        )
    # Nothing of the patient was read.
    assert AuditEntry.objects.count() == before


def test_it_answers_501_to_an_operation_whatever_the_id(api, personas):
    response = api.get(
        "Patient/0f0f0f0f-0000-0000-0000-000000000000/$everything", personas.patient_user
    )

    assert response.status_code == 501


@pytest.mark.parametrize(
    "path",
    [
        "Practitioner/{doctor}/_history",
        "Practitioner/{doctor}/_history/1",
        "Organization/_history",
        "_history",
    ],
)
def test_it_answers_501_to_a_history_it_does_not_keep(api, personas, path):
    response = api.get(path.format(doctor=personas.treating_doctor.uuid), personas.nurse)

    assert response.status_code == 501
    issue = issues(response)[0]
    assert issue["code"] == "not-supported"
    assert "historique" in issue["diagnostics"].lower()


@pytest.mark.parametrize(
    "path",
    [
        "Condition/$everything",  # a type we do not have: the type is what is missing
        "Patient/{id}/$every thing",
        "Patient/{id}/$",
        "Patient/{id}/_history/1/extra",
        "Patient/{id}/photos/$everything",
    ],
)
def test_it_answers_404_to_what_is_not_an_operation_of_ours(api, personas, path):
    response = api.get(path.format(id=personas.patient.uuid), personas.treating_doctor)

    assert response.status_code == 404


def test_an_unsupported_operation_quotes_no_garbage(api, personas):
    response = api.get("Patient/$" + "x" * 500, personas.treating_doctor)

    assert response.status_code == 404
    assert "x" * 100 not in response.content.decode()


def test_it_keeps_405_with_allow_for_a_method(api, personas):
    response = api.client.put(
        f"/fhir/r4/Practitioner/{personas.treating_doctor.uuid}",
        "{}",
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {api.token(personas.nurse)}",
    )

    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert issues(response)[0]["code"] == "not-supported"


def test_the_capability_statement_claims_only_the_bulk_export(api):
    statement = api.get("metadata").json()

    rest = statement["rest"][0]
    assert [o["name"] for o in rest["operation"]] == ["export"]
    with_operations = {r["type"]: r["operation"] for r in rest["resource"] if "operation" in r}
    assert [o["name"] for o in with_operations.pop("Patient")] == ["export"]
    assert with_operations == {}
    assert statement["fhirVersion"] == "4.0.1"
