from __future__ import annotations

from maillage.audit.models import AuditEntry
from maillage.fhir.router import NOT_RESTFUL, Interaction
from maillage.fhir.routes import ROUTES
from maillage.fhir.tests.conftest import fhir_json

EXPECTED = {
    ("Patient", "read"),
    ("Patient", "search-type"),
    ("Patient", "create"),
    ("Patient", "vread"),
    ("Patient", "history-instance"),
    ("Patient", "update"),
    ("Patient", "patch"),
    ("Practitioner", "read"),
    ("Practitioner", "search-type"),
    ("PractitionerRole", "read"),
    ("PractitionerRole", "search-type"),
    ("Organization", "read"),
    ("Organization", "search-type"),
    ("Location", "read"),
    ("Location", "search-type"),
    ("DocumentReference", "read"),
    ("DocumentReference", "search-type"),
    ("DocumentReference", "create"),
    ("DocumentReference", "vread"),
    ("DocumentReference", "history-instance"),
    ("Binary", "read"),
    ("Consent", "read"),
    ("Consent", "search-type"),
    ("Communication", "read"),
    ("Communication", "search-type"),
    ("Communication", "create"),
    ("ServiceRequest", "read"),
    ("ServiceRequest", "search-type"),
    ("ServiceRequest", "create"),
    ("Task", "read"),
    ("Task", "search-type"),
    ("Task", "update"),
    ("Task", "patch"),
    ("AuditEvent", "read"),
    ("AuditEvent", "search-type"),
    ("Schedule", "read"),
    ("Schedule", "search-type"),
    ("Slot", "read"),
    ("Slot", "search-type"),
    ("Appointment", "read"),
    ("Appointment", "search-type"),
    ("Appointment", "create"),
    ("Appointment", "update"),
    ("Appointment", "patch"),
    # Teleconsultation (maillage.teleconsult).
    ("Encounter", "read"),
    ("Encounter", "search-type"),
    # Measurements (maillage.measurements).
    ("Observation", "read"),
    ("Observation", "search-type"),
    ("Observation", "create"),
    ("Observation", "update"),
    ("Device", "read"),
    ("Device", "search-type"),
    ("Device", "create"),
    ("Media", "read"),
    ("Media", "search-type"),
    ("Media", "create"),
}


def test_it_answers_without_authentication(api, db):
    response = api.get("metadata")

    assert response.status_code == 200
    statement = fhir_json(response)
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["kind"] == "instance"
    assert "json" in statement["format"]
    rest = statement["rest"][0]
    assert rest["mode"] == "server"
    assert rest["security"]["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    assert "Bearer" in rest["security"]["description"]
    assert statement["implementation"]["url"] == "http://testserver/fhir/r4"
    assert not AuditEntry.objects.exists()


def test_it_lists_every_route_of_the_registry(api, db):
    statement = fhir_json(api.get("metadata"))

    listed = {
        (resource["type"], interaction["code"])
        for resource in statement["rest"][0]["resource"]
        for interaction in resource["interaction"]
    }
    registered = {
        (route.resource_type, route.interaction.value)
        for route in ROUTES
        # System-level interactions (metadata, transaction) are not a resource's;
        # operations ($export) and their status and file URLs are not RESTful
        # interactions: the statement lists the operations apart (bulk tests).
        if route.resource_type and route.interaction not in NOT_RESTFUL
    }
    assert listed == registered == EXPECTED


def test_it_lists_the_search_parameters_the_handlers_accept(api, db):
    statement = fhir_json(api.get("metadata"))

    by_type = {r["type"]: r for r in statement["rest"][0]["resource"]}
    for route in ROUTES:
        if route.interaction is Interaction.SEARCH_TYPE:
            listed = {(p["name"], p["type"]) for p in by_type[route.resource_type]["searchParam"]}
            assert listed == {(p.name, p.type.value) for p in route.search_params}
    assert {p["name"] for p in by_type["Location"]["searchParam"]} == {
        "name",
        "address-city",
        "organization",
        "type",
        "near",
        *RESULT,
        "_id",
        "_lastUpdated",
        "_include",
    }
    assert by_type["Location"]["searchInclude"] == ["Location:organization"]
    assert by_type["Patient"]["searchInclude"] == ["Patient:general-practitioner"]
    assert by_type["Patient"]["searchRevInclude"] == [
        "DocumentReference:subject",
        "DocumentReference:patient",
    ]
    assert by_type["Patient"]["supportedProfile"] == [
        "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient"
    ]
    assert by_type["Consent"]["supportedProfile"] == [
        "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-consent"
    ]
    assert {p["name"] for p in by_type["DocumentReference"]["searchParam"]} >= {
        "patient",
        "type",
        "status",
        *RESULT,
        "_id",
        "_lastUpdated",
    }


RESULT = {"_sort", "_total", "_totalMethod", "_summary", "_elements"}


def test_it_refuses_parameters_it_does_not_know(api, db):
    response = api.get("metadata", data={"mode": "terminology"})

    assert response.status_code == 400


def test_the_statement_built_once_per_process_still_names_each_base_url(api, db, settings):
    # Built and validated once per process, then served from a cache: a
    # request to one base URL must not hand its statement to another (a
    # poisoned cache would point clients at the wrong server).
    first = fhir_json(api.get("metadata"))
    settings.MAILLAGE_PUBLIC_URL = "https://maillage.example.org/"
    behind_proxy = fhir_json(api.get("metadata"))
    settings.MAILLAGE_PUBLIC_URL = ""
    again = fhir_json(api.get("metadata"))

    assert first["implementation"]["url"] == "http://testserver/fhir/r4"
    assert behind_proxy["implementation"]["url"] == "https://maillage.example.org/fhir/r4"
    assert again == first
    assert not AuditEntry.objects.exists()


def test_the_cached_statement_keeps_the_checks_before_it(api, db):
    # Served from the cache, metadata still goes through the router's
    # checks: a media type it cannot produce and unknown parameters are refused.
    fhir_json(api.get("metadata"))

    refused_type = api.get("metadata", HTTP_ACCEPT="application/fhir+xml")
    refused_parameter = api.get("metadata", data={"mode": "terminology"})

    assert refused_type.status_code == 406
    assert fhir_json(refused_type)["resourceType"] == "OperationOutcome"
    assert refused_parameter.status_code == 400
