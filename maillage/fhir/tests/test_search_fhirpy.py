"""fhirpy, used unchanged against a live server: the searches a client library makes."""

from __future__ import annotations

import datetime as dt

import pytest
from fhirpy import SyncFHIRClient

from maillage.accounts.actions import create_api_token
from maillage.audit.models import Action, AuditEntry
from maillage.fhir.tests.conftest import document
from maillage.testing import factories as f

pytestmark = pytest.mark.usefixtures("private_files")


@pytest.fixture
def fhir(live_server, personas):
    def client_for(user):
        token = create_api_token(user, label="fhirpy")
        return SyncFHIRClient(f"{live_server.url}/fhir/r4", authorization=f"Bearer {token}")

    return client_for


@pytest.fixture
def patients(personas):
    """Three more patients of the MSP, with the persona: four in all."""
    return [
        f.patient("ARNAUD", "Anne", dt.date(1960, 1, 1), followed_by=(personas.msp,)),
        f.patient("BERNARD", "Paul", dt.date(1970, 1, 1), "M", followed_by=(personas.msp,)),
        f.patient("CHEVALIER", "Zoé", dt.date(1940, 1, 1), followed_by=(personas.msp,)),
    ]


def test_count_sort_limit_and_id(fhir, personas, patients):
    client = fhir(personas.coordinator)
    resources = client.resources("Patient")

    assert resources.count() == 4
    assert resources.search(gender="male").count() == 1
    by_birth = resources.sort("-birthdate").fetch()
    assert [p["birthDate"] for p in by_birth] == [
        "1970-01-01",
        "1960-01-01",
        "1948-03-14",
        "1940-01-01",
    ]
    assert len(resources.limit(2).fetch()) == 2
    assert len(resources.limit(2).fetch_all()) == 4  # follows the next links
    wanted = [str(patients[0].uuid), str(patients[2].uuid)]
    found = resources.search(_id=",".join(wanted)).fetch()
    assert sorted(p["id"] for p in found) == sorted(wanted)
    assert resources.search(name="chev").first()["id"] == str(patients[2].uuid)


def test_elements(fhir, personas, patients):
    client = fhir(personas.coordinator)

    found = client.resources("Patient").elements("birthDate").sort("birthdate").fetch()

    assert [p["birthDate"] for p in found] == [
        "1940-01-01",
        "1948-03-14",
        "1960-01-01",
        "1970-01-01",
    ]
    assert all(p.get("name") is None for p in found)
    assert all(p["meta"]["tag"][-1]["code"] == "SUBSETTED" for p in found)


def test_include_and_revinclude(fhir, personas):
    gp = personas.treating_doctor
    report = document(gp, personas.patient, title="CR")
    client = fhir(gp.user)

    with_author = (
        client.resources("DocumentReference")
        .search(subject=f"Patient/{personas.patient.uuid}")
        .include("DocumentReference", "author")
        .fetch_raw()
    )
    with_documents = (
        client.resources("Patient")
        .search(_id=str(personas.patient.uuid))
        .revinclude("DocumentReference", "subject")
        .fetch_raw()
    )

    modes = {(e.resource["resourceType"], e.search["mode"]) for e in with_author.entry}
    assert modes == {("DocumentReference", "match"), ("Practitioner", "include")}
    assert [e.resource["id"] for e in with_documents.entry if e.search["mode"] == "include"] == [
        str(report.uuid)
    ]
    # The fetch of matches keeps its own type only, as fhirpy does.
    assert [
        d["id"]
        for d in client.resources("DocumentReference")
        .include("DocumentReference", "subject")
        .search(patient=str(personas.patient.uuid))
        .fetch()
    ] == [str(report.uuid)]


def test_a_patients_app_finds_her(fhir, personas, patients):
    client = fhir(personas.patient_user)

    found = client.resources("Patient").fetch()

    assert [p["id"] for p in found] == [str(personas.patient.uuid)]
    assert client.resources("Patient").count() == 1
    assert AuditEntry.objects.filter(
        action=Action.PATIENT_READ, patient=personas.patient, actor=personas.patient_user
    ).exists()
