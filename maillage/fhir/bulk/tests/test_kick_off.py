"""Bad kick-offs: a 400 OperationOutcome in French naming what is wrong; no job is made."""

from __future__ import annotations

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.bulk.models import ExportJob
from maillage.fhir.bulk.tests.conftest import KICK_OFF, kick_off
from maillage.fhir.tests.conftest import fhir_json, issues

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"HTTP_ACCEPT": "application/fhir+json"}, "Prefer: respond-async"),
        ({"HTTP_PREFER": "respond-async"}, "Accept: application/fhir+json"),
        ({"HTTP_ACCEPT": "*/*", "HTTP_PREFER": "respond-async"}, "Accept: application/fhir+json"),
        (
            {"HTTP_ACCEPT": "application/fhir+json", "HTTP_PREFER": "return=minimal"},
            "arrière-plan",
        ),
    ],
)
def test_it_needs_the_headers_of_the_ig(api, territory, headers, expected):
    response = api.get("$export", territory.personas.treating_doctor, **headers)
    assert response.status_code == 400
    assert any(expected in i["diagnostics"] for i in issues(response))
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("_outputFormat=text/csv", "Le format de sortie text/csv n'est pas pris en charge"),
        ("_type=Condition", "Le type de ressource Condition n'est pas exporté"),
        ("_type=Patient,Consent", "Le type de ressource Consent n'est pas exporté"),
        ("_since=2026-12-01", "_since doit être un instant FHIR"),
        ("_since=2026-12-01T08:00:00", "_since doit être un instant FHIR"),
        ("_since=hier", "_since doit être un instant FHIR"),
        ("_since=" + "9" * 1500, "_since doit être un instant FHIR"),
        (
            "_since=2026-12-01T08:00:00Z&_since=2026-12-02T08:00:00Z",
            "_since ne peut être donné qu'une fois",
        ),
        ("_elements=id", "Paramètre inconnu ou non pris en charge : _elements"),
        ("patient=Patient/1", "Paramètre inconnu ou non pris en charge : patient"),
        ("_typeFilter=Patient%3Fgender%3Dfemale", "Paramètre inconnu ou non pris en charge"),
        ("includeAssociatedData=LatestProvenanceResources", "Paramètre inconnu"),
    ],
)
def test_it_refuses_what_it_does_not_support(api, territory, query, expected):
    response = kick_off(api, territory.personas.treating_doctor, f"$export?{query}")
    assert response.status_code == 400
    assert any(expected in i["diagnostics"] for i in issues(response)), issues(response)
    assert not ExportJob.objects.exists()


def test_a_role_that_may_not_export_gets_403_audited(api, territory):
    analyst = territory.personas.analyst
    response = kick_off(api, analyst)
    assert response.status_code == 403
    entry = AuditEntry.objects.get(action=Action.BULK_EXPORT)
    assert entry.actor == analyst
    assert entry.outcome == Outcome.DENIED
    assert entry.detail["rule"] == "role"
    assert not ExportJob.objects.exists()


def test_it_needs_a_token(api, territory):
    assert api.get("$export", None, **KICK_OFF).status_code == 401
    assert api.get("Patient/$export", None, **KICK_OFF).status_code == 401


def test_other_methods_are_refused(api, territory):
    doctor = territory.personas.treating_doctor
    response = api.post("$export", {}, doctor, **KICK_OFF)
    assert response.status_code == 405
    assert response["Allow"] == "GET"


def test_three_exports_under_way_are_enough(api, territory):
    doctor = territory.personas.treating_doctor
    for _ in range(3):
        assert kick_off(api, doctor).status_code == 202
    response = kick_off(api, doctor)
    assert response.status_code == 429
    assert "exports en cours" in issues(response)[0]["diagnostics"]


def test_a_batch_cannot_carry_an_export(api, territory):
    doctor = territory.personas.treating_doctor
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"request": {"method": "GET", "url": "$export"}},
            {"request": {"method": "GET", "url": "Patient/$export?_type=Patient"}},
        ],
    }
    response = api.post("", batch, doctor, HTTP_PREFER="respond-async")
    assert response.status_code == 200
    entries = fhir_json(response)["entry"]
    assert [e["response"]["status"].split()[0] for e in entries] == ["400", "400"]
    outcome = entries[0]["response"]["outcome"]["issue"][0]["diagnostics"]
    assert "Un export de masse se demande seul" in outcome
    assert not ExportJob.objects.exists()
