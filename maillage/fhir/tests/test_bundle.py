"""POST of a batch or transaction Bundle to the base: every entry through its own route."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import FHIR_JSON, PDF, fhir_json, in_care_team, issues
from maillage.files.models import StoredFile
from maillage.patients.models import Patient
from maillage.records.models import Document

pytestmark = pytest.mark.usefixtures("private_files")

OURS = "https://maillage.example/fhir/CodeSystem/document-type"
PATIENT_URN = "urn:uuid:4f1c3a52-6b1e-4f5e-9a0e-2d3c4b5a6f70"


def _patient(family: str = "Durand", given: str = "Paul", **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": family, "given": [given]}],
        "gender": "male",
        "birthDate": "1960-05-02",
        **more,
    }


def _document(subject: str, doc_type: str = "teleconsultation_report") -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {"coding": [{"system": OURS, "code": doc_type}]},
        "subject": {"reference": subject},
        "description": "Compte rendu",
        "context": {"period": {"start": "2026-11-02"}},
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "title": "cr.pdf",
                    "data": base64.b64encode(PDF).decode(),
                }
            }
        ],
    }


def _post(resource: dict[str, Any], full_url: str = "") -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"]},
    }
    if full_url:
        entry["fullUrl"] = full_url
    return entry


def _bundle(kind: str, *entries: object) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def _statuses(response: Any) -> list[str]:
    return [e["response"]["status"] for e in fhir_json(response)["entry"]]


# --- The base, with or without its slash ------------------------------------------


def test_it_takes_a_bundle_at_the_base_without_the_slash(api, personas):
    doctor = personas.treating_doctor
    body = json.dumps(_bundle("batch", _post(_patient())))

    response = api.client.post(
        "/fhir/r4",
        body,
        content_type=FHIR_JSON,
        HTTP_AUTHORIZATION=f"Bearer {api.token(doctor)}",
    )

    assert response.status_code == 200
    bundle = fhir_json(response)
    assert bundle["type"] == "batch-response"
    assert _statuses(response) == ["201 Created"]
    assert Patient.objects.count() == 2


def test_it_answers_the_base_without_the_slash_in_fhir_not_html(api, personas):
    response = api.client.get(
        "/fhir/r4", HTTP_AUTHORIZATION=f"Bearer {api.token(personas.treating_doctor)}"
    )

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert issues(response)[0]["code"] == "not-supported"


def test_it_asks_for_a_token_before_reading_the_bundle(api, personas):
    response = api.post("", _bundle("batch", _post(_patient())))

    assert response.status_code == 401
    assert Patient.objects.count() == 1


def test_the_capability_statement_says_transaction_and_batch(api):
    statement = fhir_json(api.get("metadata"))

    codes = [i["code"] for i in statement["rest"][0]["interaction"]]

    assert codes == ["transaction", "batch"]


# --- Batch -------------------------------------------------------------------------


def test_a_batch_answers_each_entry_on_its_own(api, personas):
    doctor = personas.treating_doctor
    bundle = _bundle(
        "batch",
        _post(_patient()),
        # A patient that does not exist.
        _post(_document("Patient/00000000-0000-4000-8000-000000000000")),
        {"request": {"method": "GET", "url": f"Patient/{personas.patient.uuid}"}},
    )

    response = api.post("", bundle, doctor)

    assert response.status_code == 200
    entries = fhir_json(response)["entry"]
    assert [e["response"]["status"] for e in entries] == [
        "201 Created",
        "404 Not Found",
        "200 OK",
    ]
    created = entries[0]["resource"]
    assert entries[0]["response"]["location"].endswith(f"/Patient/{created['id']}")
    assert entries[1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert entries[2]["resource"]["id"] == str(personas.patient.uuid)
    assert Patient.objects.filter(uuid=created["id"]).exists()
    assert not Document.objects.exists()


# --- Transaction -------------------------------------------------------------------


def test_a_transaction_creates_a_patient_and_a_document_referring_to_it(api, personas):
    doctor = personas.treating_doctor
    bundle = _bundle(
        "transaction",
        # The document comes first and names the patient by its urn: the
        # patient is still created first.
        _post(_document(PATIENT_URN)),
        # She becomes his patient, which lets him file documents in her record.
        _post(
            _patient(generalPractitioner=[{"reference": f"Practitioner/{doctor.uuid}"}]),
            PATIENT_URN,
        ),
    )

    response = api.post("", bundle, doctor)

    assert response.status_code == 200, response.content
    result = fhir_json(response)
    assert result["type"] == "transaction-response"
    document_entry, patient_entry = result["entry"]
    assert [document_entry["response"]["status"], patient_entry["response"]["status"]] == [
        "201 Created",
        "201 Created",
    ]
    patient = Patient.objects.get(uuid=patient_entry["resource"]["id"])
    document = Document.objects.get()
    # Each entry's version, as a single create's ETag and Last-Modified say it.
    for entry in (document_entry, patient_entry):
        assert entry["response"]["etag"] == 'W/"1"'
        assert entry["response"]["lastModified"] == entry["resource"]["meta"]["lastUpdated"]
    assert document.patient == patient
    assert document_entry["resource"]["subject"]["reference"] == f"Patient/{patient.uuid}"
    read_back = fhir_json(api.get(f"DocumentReference/{document.uuid}", doctor))
    assert read_back["subject"]["reference"] == f"Patient/{patient.uuid}"
    assert fhir_json(api.get(f"Patient/{patient.uuid}", doctor))["name"][0]["family"] == "Durand"
    done = AuditEntry.objects.filter(outcome=Outcome.GRANTED)
    assert done.filter(action=Action.PATIENT_CREATE, patient=patient).count() == 1
    assert done.filter(action=Action.DOCUMENT_CREATE, patient=patient).count() == 1


def test_a_transaction_refused_on_its_second_entry_keeps_nothing_but_the_refusal(api, personas):
    cardiologist = personas.cardiologist  # no link with Micheline Girard
    bundle = _bundle(
        "transaction",
        _post(_patient()),
        _post(_document(f"Patient/{personas.patient.uuid}")),
    )

    response = api.post("", bundle, cardiologist)

    assert response.status_code == 404
    first, *rest = issues(response)
    assert first["expression"] == ["Bundle.entry[1]"]
    assert "rien de la transaction n'a été conservé" in first["diagnostics"]
    assert rest[0]["code"] == "not-found"
    assert Patient.objects.count() == 1  # Micheline only
    assert not Document.objects.exists()
    assert not AuditEntry.objects.filter(action=Action.PATIENT_CREATE).exists()
    refusal = AuditEntry.objects.get(action=Action.DOCUMENT_CREATE)
    assert (refusal.outcome, refusal.patient, refusal.actor) == (
        Outcome.DENIED,
        personas.patient,
        cardiologist.user,
    )
    assert refusal.detail["transaction"] == "rolled_back"


def test_a_nurse_writing_a_doctors_type_in_a_transaction_undoes_it_all(api, personas):
    nurse = personas.nurse
    in_care_team(nurse, personas.patient)
    subject = f"Patient/{personas.patient.uuid}"
    bundle = _bundle(
        "transaction",
        _post(_document(subject, "photo") | _png()),
        _post(_document(subject, "prescription")),
    )

    response = api.post("", bundle, nurse)

    assert response.status_code == 403
    assert issues(response)[1]["diagnostics"] == (
        "Votre rôle ne permet pas d'ajouter ce type de document au dossier."
    )
    assert not Document.objects.exists()
    # The photo's sealed file, stored before the refusal, left the disk with its row.
    assert not StoredFile.objects.exists()
    assert not [p for p in Path(settings.MAILLAGE_FILES_DIR).rglob("*") if p.is_file()]
    failed = AuditEntry.objects.get(action=Action.DOCUMENT_CREATE)
    assert (failed.outcome, failed.patient, failed.detail["failure"]) == (
        Outcome.FAILED,
        personas.patient,
        "habilitation",
    )


def _png() -> dict[str, Any]:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    return {
        "content": [
            {
                "attachment": {
                    "contentType": "image/png",
                    "title": "talon.png",
                    "data": base64.b64encode(png).decode(),
                }
            }
        ]
    }


def test_a_refusal_on_a_patient_the_transaction_created_is_kept_without_the_row(api, personas):
    nurse = personas.nurse
    bundle = _bundle(
        "transaction",
        _post(_patient(), PATIENT_URN),
        _post(_document(PATIENT_URN)),
    )

    response = api.post("", bundle, nurse)

    # She may create the identity, not write in a record where she has no place.
    assert response.status_code == 404
    assert Patient.objects.count() == 1
    kept = AuditEntry.objects.get(action=Action.DOCUMENT_CREATE)
    assert kept.outcome == Outcome.DENIED
    assert kept.patient is None
    assert kept.detail["transaction"] == "rolled_back"
    assert kept.detail["patient"]


def test_a_transaction_refuses_a_resource_type_the_server_does_not_have(api, personas):
    observation = {
        "resourceType": "Condition",
        "code": {"text": "Hypertension"},
        "subject": {"reference": PATIENT_URN},
    }
    bundle = _bundle("transaction", _post(_patient(), PATIENT_URN), _post(observation))

    response = api.post("", bundle, personas.treating_doctor)

    assert response.status_code == 404
    summary, observation, *own = issues(response)
    assert summary["diagnostics"] == (
        "Rien de la transaction n'a été exécuté : 1 de ses entrées demandent ce que ce "
        "serveur ne prend pas en charge (avec Prefer: handling=lenient, elles sont "
        "ignorées et nommées)."
    )
    assert observation["diagnostics"] == (
        "POST Condition (nombre : 1), la première en Bundle.entry[1]."
    )
    assert [i["diagnostics"] for i in own] == [
        "Le type de ressource Condition n'est pas pris en charge par ce serveur."
    ]
    assert Patient.objects.count() == 1
    # Refused before anything ran: nothing was asked of the policy.
    assert not AuditEntry.objects.exclude(action=Action.TOKEN_CREATED).exists()


# --- Bad bundles --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "diagnostics"),
    [
        (
            _patient(),
            400,
            "Envoyez à la base un Bundle de type transaction ou batch.",
        ),
        (
            {"resourceType": "Bundle", "type": "searchset"},
            400,
            "Le type du Bundle doit être transaction ou batch, et non « searchset ».",
        ),
        (
            _bundle("batch", "x"),
            400,
            "Cet élément doit être un objet JSON.",
        ),
        (
            _bundle("batch", {"request": {"method": "HEAD", "url": "metadata"}}),
            400,
            "La méthode doit être GET, POST, PUT, PATCH ou DELETE.",
        ),
        (
            _bundle("transaction", _post(_patient(), PATIENT_URN), _post(_patient(), PATIENT_URN)),
            400,
            f"Deux entrées ont le fullUrl « {PATIENT_URN} ».",
        ),
        (
            _bundle("transaction", _post(_document(PATIENT_URN))),
            400,
            f"La référence « {PATIENT_URN} » ne désigne aucune entrée de ce Bundle "
            "(aucune entrée ne l'a pour fullUrl).",
        ),
    ],
)
def test_it_refuses_a_bad_bundle_in_french(api, personas, body, status, diagnostics):
    response = api.post("", body, personas.treating_doctor)

    assert response.status_code == status
    assert diagnostics in [i["diagnostics"] for i in issues(response)]
    assert Patient.objects.count() == 1


def test_it_refuses_ten_thousand_and_one_entries_before_running_any(api, personas):
    entry = {"request": {"method": "GET", "url": "metadata"}}
    body = _bundle("batch", *[entry] * 10_001)

    response = api.post("", body, personas.treating_doctor)

    assert response.status_code == 413
    (issue,) = issues(response)
    assert issue["code"] == "too-costly"
    assert issue["diagnostics"] == (
        "Un Bundle contient au plus 1000 entrées ; celui-ci en contient 10001."
    )


def test_it_refuses_entries_that_refer_to_each_other_in_a_cycle(api, personas):
    other = "urn:uuid:0d6e1a8c-1f7b-4c55-9d3e-5c1f0b2a9e11"
    first = _post(_document(other), PATIENT_URN)
    second = _post(_document(PATIENT_URN), other)

    response = api.post("", _bundle("transaction", first, second), personas.treating_doctor)

    assert response.status_code == 400
    assert "cycle" in issues(response)[0]["diagnostics"]


def test_it_refuses_a_bundle_inside_a_bundle(api, personas):
    inner = _bundle("batch")
    entry = {"resource": inner, "request": {"method": "POST", "url": "/"}}

    response = api.post("", _bundle("batch", entry), personas.treating_doctor)

    assert response.status_code == 200
    assert _statuses(response) == ["400 Bad Request"]


# --- A Synthea bundle, posted -------------------------------------------------------

SYNTHEA_LIZ = (
    Path(__file__).resolve().parents[4]
    / "shared/data/synthea/Liz_Conn_27c911c6-f045-4ffa-af5d-6eba57ac94b2.json"
)
needs_synthea = pytest.mark.skipif(
    not SYNTHEA_LIZ.exists(), reason="the Synthea bundles are not here"
)


def _synthea() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SYNTHEA_LIZ.read_text(encoding="utf-8"))
    return data


@needs_synthea
def test_a_synthea_transaction_is_refused_whole_for_what_the_server_cannot_write(api, personas):
    response = api.post("", _synthea(), personas.coordinator)

    # Every entry the server cannot write is named before anything runs, by type;
    # the status is the first one's (its Organization: the directory is read-only).
    assert response.status_code == 405
    summary, *groups = issues(response)
    assert summary["code"] == "not-supported"
    named = {g["diagnostics"].split(" (")[0] for g in groups if g.get("expression")}
    # Patients and Observations are written here (an Observation of Synthea would
    # then fail on its Encounter, which is not: the transaction never gets there).
    sent = {
        f"POST {e['resource']['resourceType']}"
        for e in _synthea()["entry"]
        if e["resource"]["resourceType"] not in {"Patient", "Observation"}
    }
    assert named == sent
    assert Patient.objects.count() == 1


@needs_synthea
def test_a_synthea_bundle_posted_as_a_batch_creates_its_patient_and_answers_each_entry(
    api, personas
):
    coordinator = personas.coordinator
    bundle = _synthea() | {"type": "batch"}
    sent = bundle["entry"][0]["resource"]

    response = api.post("", bundle, coordinator)

    assert response.status_code == 200
    entries = fhir_json(response)["entry"]
    assert len(entries) == len(bundle["entry"])
    assert entries[0]["response"]["status"] == "201 Created"
    warnings = entries[0]["response"]["outcome"]["issue"]
    assert {w["severity"] for w in warnings} == {"warning"}
    assert "Patient.extension[0]" in [p for w in warnings for p in w["expression"]]
    assert {
        e["response"]["status"]
        for e, sent_entry in zip(entries[1:], bundle["entry"][1:], strict=True)
        if sent_entry["resource"]["resourceType"] != "Observation"
    } <= {"404 Not Found", "405 Method Not Allowed"}
    # An Observation names its Encounter, which the server did not write: refused.
    assert {
        e["response"]["status"]
        for e, sent_entry in zip(entries[1:], bundle["entry"][1:], strict=True)
        if sent_entry["resource"]["resourceType"] == "Observation"
    } <= {"400 Bad Request"}
    kept = fhir_json(api.get(f"Patient/{entries[0]['resource']['id']}", coordinator))
    assert (kept["gender"], kept["birthDate"]) == (sent["gender"], sent["birthDate"])
    assert kept["name"][0]["family"] == sent["name"][0]["family"]
    assert {(i["system"], i["value"]) for i in sent["identifier"]} <= {
        (i.get("system"), i.get("value")) for i in kept["identifier"]
    }
    assert Patient.objects.count() == 2


@needs_synthea
def test_a_lenient_synthea_transaction_creates_its_patient_and_names_every_skipped_entry(
    api, personas
):
    coordinator = personas.coordinator
    bundle = _synthea()
    sent = bundle["entry"][0]["resource"]

    response = api.post("", bundle, coordinator, HTTP_PREFER="handling=lenient")

    assert response.status_code == 200
    answered = fhir_json(response)
    assert answered["type"] == "transaction-response"
    first, *others = answered["entry"]
    assert first["response"]["status"] == "201 Created"
    # Nothing the server cannot write is dropped silently: each entry says so.
    assert len(others) == len(bundle["entry"]) - 1
    for index, entry in enumerate(others, start=1):
        (issue,) = entry["response"]["outcome"]["issue"]
        assert (issue["severity"], issue["code"]) == ("warning", "not-supported")
        assert issue["expression"] == [f"Bundle.entry[{index}]"]
        assert bundle["entry"][index]["resource"]["resourceType"] in issue["diagnostics"]

    # Read back: what a Patient here holds is as Synthea sent it.
    kept = fhir_json(api.get(f"Patient/{first['resource']['id']}", coordinator))
    assert (kept["gender"], kept["birthDate"]) == (sent["gender"], sent["birthDate"])
    official = next(n for n in sent["name"] if n["use"] == "official")
    kept_official = next(n for n in kept["name"] if n.get("use") == "official")
    assert kept_official["family"].upper() == official["family"].upper()
    assert kept_official["given"][0] == official["given"][0]
    assert {(i["system"], i["value"]) for i in sent["identifier"]} <= {
        (i.get("system"), i.get("value")) for i in kept["identifier"]
    }
    (address,) = kept["address"]
    assert (address["city"], address["state"], address["country"]) == (
        sent["address"][0]["city"],
        sent["address"][0]["state"],
        sent["address"][0]["country"],
    )
    assert {t["value"] for t in sent["telecom"]} <= {t["value"] for t in kept["telecom"]}
    assert Patient.objects.count() == 2


@needs_synthea
def test_a_lenient_transaction_is_still_all_or_nothing_for_what_it_runs(api, personas):
    # Lenient skips what the server cannot write, never what the policy refuses.
    analyst = personas.analyst

    response = api.post("", _synthea(), analyst, HTTP_PREFER="handling=lenient")

    assert response.status_code == 403
    assert Patient.objects.count() == 1
    assert AuditEntry.objects.filter(actor=analyst, outcome=Outcome.DENIED).exists()


# --- Updates in a Bundle -------------------------------------------------------------


def _put(resource: dict[str, Any], if_match: str) -> dict[str, Any]:
    url = f"Patient/{resource['id']}"
    return {"resource": resource, "request": {"method": "PUT", "url": url, "ifMatch": if_match}}


def _phone(resource: dict[str, Any], number: str) -> dict[str, Any]:
    changed = dict(resource)
    changed["telecom"] = [{"system": "phone", "value": number}]
    return changed


def test_a_transaction_updates_a_patient_with_if_match_and_files_a_document(api, personas):
    doctor = personas.treating_doctor
    current = fhir_json(api.get(f"Patient/{personas.patient.uuid}", doctor))
    version = current["meta"]["versionId"]
    bundle = _bundle(
        "transaction",
        _put(_phone(current, "0611223344"), f'W/"{version}"'),
        _post(_document(f"Patient/{personas.patient.uuid}")),
    )

    response = api.post("", bundle, doctor)

    assert response.status_code == 200, response.content
    put_entry, _post_entry = fhir_json(response)["entry"]
    assert put_entry["response"]["status"] == "200 OK"
    assert put_entry["response"]["etag"] == f'W/"{int(version) + 1}"'
    personas.patient.refresh_from_db()
    assert personas.patient.phone == "0611223344"
    assert Document.objects.get().patient == personas.patient


def test_a_stale_if_match_fails_the_transaction_with_412_and_changes_nothing(api, personas):
    doctor = personas.treating_doctor
    current = fhir_json(api.get(f"Patient/{personas.patient.uuid}", doctor))
    phone = personas.patient.phone
    bundle = _bundle(
        "transaction",
        _post(_document(f"Patient/{personas.patient.uuid}")),
        _put(_phone(current, "0611223344"), 'W/"99"'),
    )

    response = api.post("", bundle, doctor)

    assert response.status_code == 412
    assert issues(response)[0]["expression"] == ["Bundle.entry[1]"]
    personas.patient.refresh_from_db()
    assert personas.patient.phone == phone
    assert not Document.objects.exists()


def test_a_batch_patches_a_patient_with_a_json_patch_in_a_binary(api, personas):
    doctor = personas.treating_doctor
    operations = [{"op": "replace", "path": "/birthDate", "value": "1948-03-02"}]
    patch = {
        "resource": {
            "resourceType": "Binary",
            "contentType": "application/json-patch+json",
            "data": base64.b64encode(json.dumps(operations).encode()).decode(),
        },
        "request": {"method": "PATCH", "url": f"Patient/{personas.patient.uuid}"},
    }
    wrong_type = patch | {"resource": patch["resource"] | {"contentType": "text/plain"}}

    response = api.post("", _bundle("batch", patch, wrong_type), doctor)

    assert response.status_code == 200
    assert _statuses(response) == ["200 OK", "415 Unsupported Media Type"]
    personas.patient.refresh_from_db()
    assert personas.patient.birth_date.isoformat() == "1948-03-02"


def test_prefer_return_minimal_answers_each_entry_without_its_resource(api, personas):
    doctor = personas.treating_doctor
    bundle = _bundle(
        "transaction",
        _post(
            _patient(generalPractitioner=[{"reference": f"Practitioner/{doctor.uuid}"}]),
            PATIENT_URN,
        ),
        _post(_document(PATIENT_URN)),
    )

    response = api.post("", bundle, doctor, HTTP_PREFER="return=minimal")

    assert response.status_code == 200, response.content
    entries = fhir_json(response)["entry"]
    assert all("resource" not in e for e in entries)
    patient_id = entries[0]["response"]["location"].split("/Patient/")[1].split("/")[0]
    assert Document.objects.get().patient.uuid == uuid.UUID(patient_id)


def test_a_batch_reads_searches_and_answers_what_it_cannot_do(api, personas):
    doctor = personas.treating_doctor
    patient = f"Patient/{personas.patient.uuid}"
    bundle = _bundle(
        "batch",
        {"request": {"method": "GET", "url": f"http://testserver/fhir/r4/{patient}"}},
        {"request": {"method": "GET", "url": "Patient?family=Girard&_count=5"}},
        {"request": {"method": "GET", "url": "Patient?nonsense=1"}},
        {"request": {"method": "DELETE", "url": patient}},
        {"request": {"method": "GET", "url": f"https://elsewhere.example/fhir/{patient}"}},
    )

    response = api.post("", bundle, doctor)

    assert response.status_code == 200
    entries = fhir_json(response)["entry"]
    assert [e["response"]["status"] for e in entries] == [
        "200 OK",
        "200 OK",
        "400 Bad Request",
        "405 Method Not Allowed",
        "400 Bad Request",
    ]
    assert entries[0]["resource"]["id"] == str(personas.patient.uuid)
    assert entries[1]["resource"]["type"] == "searchset"
    assert entries[1]["resource"]["entry"][0]["resource"]["id"] == str(personas.patient.uuid)
    assert entries[4]["response"]["outcome"]["issue"][0]["diagnostics"] == (
        "L'url de cette entrée n'est pas sur ce serveur : donnez-la relative à la base."
    )
    assert Patient.objects.filter(pk=personas.patient.pk).exists()
    # Each read went through the gate and left its entry, as on its own.
    reads = AuditEntry.objects.filter(action=Action.PATIENT_READ, patient=personas.patient)
    assert reads.filter(outcome=Outcome.GRANTED).count() == 1


def test_a_conditional_create_in_a_transaction_points_its_urn_at_the_patient_found(api, personas):
    doctor = personas.treating_doctor
    matricule = personas.patient.ins_matricule
    assert matricule
    patient_entry = _post(_patient("Girard", "Micheline"), PATIENT_URN)
    patient_entry["request"]["ifNoneExist"] = f"identifier={matricule}"
    bundle = _bundle("transaction", patient_entry, _post(_document(PATIENT_URN)))

    response = api.post("", bundle, doctor)

    assert response.status_code == 200, response.content
    found, filed = fhir_json(response)["entry"]
    assert found["response"]["status"] == "200 OK"
    assert found["resource"]["id"] == str(personas.patient.uuid)
    assert filed["resource"]["subject"]["reference"] == f"Patient/{personas.patient.uuid}"
    assert Patient.objects.count() == 1
    assert Document.objects.get().patient == personas.patient
