"""manage.py import_fhir: Synthea's transaction bundles through the API's transaction code."""

from __future__ import annotations

import json
from collections import Counter
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import fhir_json
from maillage.patients.models import Patient

SYNTHEA = Path(__file__).resolve().parents[4] / "shared/data/synthea"
LIZ = SYNTHEA / "Liz_Conn_27c911c6-f045-4ffa-af5d-6eba57ac94b2.json"
GUSTAVO = SYNTHEA / "Gustavo_Mejia_59a8543c-e24f-4a01-b28b-47ccde6bc11d.json"

pytestmark = pytest.mark.skipif(not SYNTHEA.is_dir(), reason="the Synthea bundles are not here")


def _bundle(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _synthea_patient(path: Path) -> dict[str, Any]:
    (patient,) = [
        e["resource"] for e in _bundle(path)["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    return dict(patient)


def _types_but_patient(path: Path) -> Counter[str]:
    return Counter(
        e["resource"]["resourceType"]
        for e in _bundle(path)["entry"]
        if e["resource"]["resourceType"] != "Patient"
    )


def _import(*paths: Path, username: str) -> str:
    out = StringIO()
    call_command("import_fhir", *[str(p) for p in paths], "--as", username, stdout=out)
    return out.getvalue()


def test_it_imports_two_synthea_patients_and_reports_what_it_skipped(api, personas):
    coordinator = personas.coordinator

    output = _import(LIZ, GUSTAVO, username=coordinator.username)

    assert Patient.objects.count() == 3
    skipped = _types_but_patient(LIZ) + _types_but_patient(GUSTAVO)
    expected = ", ".join(f"{kind} {n}" for kind, n in sorted(skipped.items()))
    assert f"Skipped, by resource type: {expected}." in output
    assert "Created: Patient 2." in output
    # What Synthea sends and a Patient here does not keep is named, element by element.
    assert "  Patient: received, not kept: Patient.extension[0]" in output
    for path in (LIZ, GUSTAVO):
        sent = _synthea_patient(path)
        official = next(n for n in sent["name"] if n["use"] == "official")
        found = fhir_json(
            api.get(
                f"Patient?family={official['family']}&birthdate={sent['birthDate']}", coordinator
            )
        )
        (entry,) = found["entry"]
        kept = entry["resource"]
        assert (kept["gender"], kept["birthDate"]) == (sent["gender"], sent["birthDate"])
        kept_official = next(n for n in kept["name"] if n.get("use") == "official")
        assert kept_official["family"].upper() == official["family"].upper()
        assert kept_official["given"][0] == official["given"][0]
        kept_identifiers = {(i.get("system"), i.get("value")) for i in kept.get("identifier", [])}
        assert {(i["system"], i["value"]) for i in sent["identifier"]} <= kept_identifiers
        # A PROV identity (no INS verified), followed by the coordinator's structure.
        patient = Patient.objects.get(uuid=kept["id"])
        assert patient.identity_status == "PROV"
        assert list(patient.followed_by.all()) == [personas.msp]
    created = AuditEntry.objects.filter(action=Action.PATIENT_CREATE, outcome=Outcome.GRANTED)
    assert created.filter(actor=coordinator).count() == 2


def test_a_second_run_creates_nothing(personas):
    username = personas.coordinator.username
    _import(LIZ, username=username)

    output = _import(LIZ, username=username)

    assert Patient.objects.count() == 2
    assert "Created: none." in output
    assert "Already there: Patient 1." in output


def test_an_account_that_may_not_create_patients_imports_nothing(personas):
    with pytest.raises(CommandError, match="1 of 1 files not imported"):
        _import(LIZ, username=personas.analyst.username)

    assert Patient.objects.count() == 1
    refusal = AuditEntry.objects.get(action=Action.PATIENT_CREATE)
    assert (refusal.outcome, refusal.actor) == (Outcome.DENIED, personas.analyst)


def test_it_names_an_unknown_account(personas):
    with pytest.raises(CommandError, match="No active user"):
        _import(LIZ, username="personne")


def test_a_batch_file_reports_each_entry_that_failed(personas, tmp_path):
    bundle = _bundle(LIZ) | {"type": "batch"}
    bad = json.loads(json.dumps(bundle["entry"][0]))
    bad["fullUrl"] = "urn:uuid:0f6c1d7e-5b2a-4c3d-8e9f-a0b1c2d3e4f5"
    bad["resource"]["gender"] = "unknown"
    bundle["entry"].append(bad)
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(bundle))
    err = StringIO()

    with pytest.raises(CommandError, match="1 of 1 files not imported, or not whole"):
        call_command(
            "import_fhir",
            str(path),
            "--as",
            personas.coordinator.username,
            stdout=StringIO(),
            stderr=err,
        )

    assert Patient.objects.count() == 2  # Liz, kept: a batch's entries stand alone
    index = len(bundle["entry"]) - 1
    assert f"failed, not imported: Bundle.entry[{index}] (POST Patient): 400" in err.getvalue()


def test_a_file_that_is_not_a_bundle_is_named_and_nothing_of_it_kept(personas, tmp_path):
    not_json = tmp_path / "notes.json"
    not_json.write_text("pas du JSON")
    patient = tmp_path / "patient.json"
    patient.write_text(json.dumps(_synthea_patient(LIZ)))
    missing = tmp_path / "absent.json"
    err = StringIO()

    with pytest.raises(CommandError, match="3 of 4 files not imported"):
        call_command(
            "import_fhir",
            str(not_json),
            str(patient),
            str(missing),
            str(LIZ),
            "--as",
            personas.coordinator.username,
            stdout=StringIO(),
            stderr=err,
        )

    said = err.getvalue()
    assert (
        "notes.json: NOT imported (nothing kept): Le corps de la requête n'est pas du JSON valide."
        in said
    )
    assert "patient.json: NOT imported (nothing kept): Envoyez à la base un Bundle" in said
    assert "absent.json: NOT imported (nothing kept): cannot read the file" in said
    assert Patient.objects.count() == 2  # Liz's bundle, the one good file
