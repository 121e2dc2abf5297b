"""What the bulk export tests share: a small territory, the kick-off, the run and the files."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class

from maillage.conftest import Personas
from maillage.fhir.tests.conftest import Api, document, in_care_team
from maillage.patients.models import Patient
from maillage.records.models import Document, HabilitationRule
from maillage.testing import factories as f

KICK_OFF = {"HTTP_ACCEPT": "application/fhir+json", "HTTP_PREFER": "respond-async"}
NDJSON = "application/fhir+ndjson"


@dataclass
class Territory:
    personas: Personas
    girard: Patient  # followed by the MSP; her médecin traitant is the MSP's doctor
    durand: Patient  # followed by the MSP, no médecin traitant, one document
    petit: Patient  # followed by the hospital only
    report: Document  # Girard's teleconsultation report (the nurse reads it)
    opinion: Document  # Girard's tele-expertise opinion (the nurse may not read it)
    durand_letter: Document
    petit_report: Document


@pytest.fixture
def api(client: Client) -> Api:
    return Api(client)


@pytest.fixture
def exports_dir(settings: Any, tmp_path: Any) -> Any:
    """Export files and stored files sealed under a key of the test, in folders of the test."""
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "file-keys.json")
    settings.MAILLAGE_FILE_KEYS = ""
    settings.MAILLAGE_EXPORTS_DIR = str(tmp_path / "exports")
    return tmp_path / "exports"


@pytest.fixture
def territory(personas: Personas, exports_dir: Any) -> Territory:
    doctor = personas.treating_doctor
    durand = f.patient("DURAND", "Paul", dt.date(1950, 6, 1), "M", followed_by=(personas.msp,))
    petit = f.patient("PETIT", "Jeanne", dt.date(1961, 2, 3), "F", followed_by=(personas.hospital,))
    in_care_team(personas.cardiologist, petit)
    in_care_team(personas.nurse, personas.patient)
    # The matrix as an administrator may set it: nurses read no tele-expertise
    # opinion here (by default they do, since they may ask one).
    HabilitationRule.objects.filter(role="nurse", document_type="teleexpertise_opinion").update(
        can_read=False
    )
    return Territory(
        personas=personas,
        girard=personas.patient,
        durand=durand,
        petit=petit,
        report=document(doctor, personas.patient, title="CR de téléconsultation"),
        opinion=document(
            doctor, personas.patient, "teleexpertise_opinion", title="Avis de cardiologie"
        ),
        durand_letter=document(personas.cardiologist, durand, "liaison_letter", title="Lettre"),
        petit_report=document(personas.cardiologist, petit, title="CR"),
    )


def kick_off(api: Api, who: Any, path: str = "$export", **extra: Any) -> Any:
    headers = {**KICK_OFF, **extra}
    return api.get(path, who, **headers)


def status_path(response: Any) -> str:
    location = str(response["Content-Location"])
    assert "/fhir/r4/$export-status/" in location
    return location.split("/fhir/r4/", 1)[1]


def run_export(api: Api, who: Any, capture: Any, path: str = "$export", **extra: Any) -> str:
    """Kick off and run the job (the test backend runs a task when its transaction commits)."""
    with capture(execute=True):
        response = kick_off(api, who, path, **extra)
    assert response.status_code == 202, response.content
    return status_path(response)


def manifest(api: Api, who: Any, status: str) -> dict[str, Any]:
    response = api.get(status, who, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    data: dict[str, Any] = json.loads(response.content)
    return data


def file_path(url: str) -> str:
    return url.split("/fhir/r4/", 1)[1]


def download(api: Api, who: Any, url: str) -> list[dict[str, Any]]:
    """Every line of a file, each validated by its R4B model."""
    response = api.get(file_path(url), who, HTTP_ACCEPT=NDJSON)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == NDJSON
    resources = []
    for line in response.content.decode().splitlines():
        resource = json.loads(line)
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        resources.append(resource)
    return resources


def exported(api: Api, who: Any, status: str) -> dict[str, list[dict[str, Any]]]:
    """Resources by type, every file downloaded; the manifest's counts checked."""
    found: dict[str, list[dict[str, Any]]] = {}
    for output in manifest(api, who, status)["output"]:
        resources = download(api, who, output["url"])
        assert len(resources) == output["count"]
        assert {r["resourceType"] for r in resources} == {output["type"]}
        found.setdefault(output["type"], []).extend(resources)
    return found


def ids(resources: list[dict[str, Any]]) -> set[str]:
    return {r["id"] for r in resources}
