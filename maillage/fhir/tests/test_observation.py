"""Observation, Device and Media over FHIR: a device hub posts readings under the policy.

The nurse beside the patient in an assisted act stands for the gateway: her
account's token posts Observations for the act (Observation.encounter). What
the platform does not measure is a 422 at the element at fault; a caller
outside the act or the care team gets 404, audited.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.mapping.observation import EUI64_SYSTEM, SIGNIFICANT_EXTENSION
from maillage.fhir.tests.conftest import fhir_json, issues
from maillage.measurements import actions
from maillage.measurements.models import Device, Media, Observation
from maillage.measurements.tests import conftest as measuring
from maillage.measurements.tests.conftest import spo2

# The assisted act and another patient's act, shared with the measurements' tests.
act = measuring.act
other_act = measuring.other_act
private_files = measuring.private_files

pytestmark = pytest.mark.django_db

MDC = "urn:iso:std:iso:11073:10101"
UCUM = "http://unitsofmeasure.org"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def _when(minutes: int = 3) -> str:
    return (timezone.now() - dt.timedelta(minutes=minutes)).isoformat()


def blood_pressure(patient: Any, act: Any, systolic: float = 138, **extra: Any) -> dict[str, Any]:
    resource = {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": MDC, "code": "150020"}]},
        "subject": {"reference": f"Patient/{patient.uuid}"},
        "encounter": {"reference": f"Encounter/{act.uuid}"},
        "effectiveDateTime": _when(),
        "component": [
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                "valueQuantity": {"value": systolic, "system": UCUM, "code": "mm[Hg]"},
            },
            {
                "code": {"coding": [{"system": MDC, "code": "150022"}]},
                "valueQuantity": {"value": 86, "system": UCUM, "code": "mm[Hg]"},
            },
        ],
    }
    return {**resource, **extra}


def saturation(patient: Any, act: Any, value: float = 95, unit: str = "%") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2708-6"}]},
        "subject": {"reference": f"Patient/{patient.uuid}"},
        "encounter": {"reference": f"Encounter/{act.uuid}"},
        "effectiveDateTime": _when(1),
        "valueQuantity": {"value": value, "system": UCUM, "code": unit},
    }


def test_the_gateway_posts_a_blood_pressure_and_reads_it_back(api, personas, act) -> None:
    body = blood_pressure(personas.patient, act, interpretation=[{"text": "haute"}])
    response = api.post("Observation", body, personas.nurse)
    assert response.status_code == 201, response.content
    created = fhir_json(response)
    assert response["Location"].endswith(f"/Observation/{created['id']}")
    assert response["ETag"] == 'W/"1"'
    # What it did not keep is named, never silently lost.
    assert "Observation.interpretation" in response["Warning"]
    codes = [(c["system"], c["code"]) for c in created["code"]["coding"]]
    assert codes == [("http://loinc.org", "85354-9"), (MDC, "150020")]
    assert [c["valueQuantity"]["value"] for c in created["component"]] == [138, 86]
    assert created["encounter"]["reference"] == f"Encounter/{act.uuid}"
    assert created["performer"][0]["reference"] == f"Practitioner/{personas.nurse.uuid}"
    assert created["extension"] == [{"url": SIGNIFICANT_EXTENSION, "valueBoolean": False}]

    read = fhir_json(api.get(f"Observation/{created['id']}", personas.treating_doctor))
    assert read["component"] == created["component"]
    write = AuditEntry.objects.get(action=Action.OBSERVATION_WRITE, actor=personas.nurse.user)
    assert (write.outcome, write.basis) == (Outcome.GRANTED, "teleconsultation")


def test_readings_are_searched_by_patient_code_date_encounter_and_category(
    api, personas, act
) -> None:
    for body in (blood_pressure(personas.patient, act), saturation(personas.patient, act)):
        assert api.post("Observation", body, personas.nurse).status_code == 201
    patient = f"patient=Patient/{personas.patient.uuid}"
    doctor = personas.treating_doctor

    def ids(query: str, who: Any = doctor) -> list[str]:
        data = fhir_json(api.get(f"Observation?{query}", who))
        return [e["resource"]["code"]["coding"][0]["code"] for e in data.get("entry", [])]

    assert ids(patient) == ["2708-6", "85354-9"]
    assert ids(f"{patient}&code=http://loinc.org|85354-9") == ["85354-9"]
    assert ids(f"{patient}&code={MDC}|150456") == ["2708-6"]
    assert ids(f"{patient}&code=1234-5") == []
    assert ids(f"encounter=Encounter/{act.uuid}&code=2708-6") == ["2708-6"]
    assert ids(f"{patient}&category=vital-signs") == ["2708-6", "85354-9"]
    assert ids(f"{patient}&category=laboratory") == []
    today = timezone.localdate().isoformat()
    assert ids(f"{patient}&date=ge{today}&date=lt2100-01-01") == ["2708-6", "85354-9"]
    assert ids(f"{patient}&date=lt{today}") == []
    # The patient her own, without naming herself.
    assert ids("code=2708-6", personas.patient_user) == ["2708-6"]
    response = api.get(f"Observation?{patient}&date=yesterday", doctor)
    assert response.status_code == 400 and issues(response)
    # One audited read per search.
    reads = AuditEntry.objects.filter(action=Action.OBSERVATION_READ, actor=doctor.user)
    assert reads.count() == 9 and {e.outcome for e in reads} == {Outcome.GRANTED}


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        (
            lambda p, a: {**saturation(p, a), "code": {"coding": [{"code": "99999-9"}]}},
            "Observation.code",
            "code-invalid",
        ),
        (
            lambda p, a: saturation(p, a, unit="mm[Hg]"),
            "Observation.valueQuantity",
            "business-rule",
        ),
        (lambda p, a: saturation(p, a, value=180), "Observation.valueQuantity", "business-rule"),
        (
            lambda p, a: blood_pressure(p, a, systolic=1200),
            "Observation.component[0]",
            "business-rule",
        ),
    ],
)
def test_what_cannot_be_a_reading_is_a_422(api, personas, act, body, path, code) -> None:
    response = api.post("Observation", body(personas.patient, act), personas.nurse)
    assert response.status_code == 422
    [issue] = issues(response)
    assert (issue["expression"], issue["code"]) == ([path], code)
    assert issue["diagnostics"]
    assert not Observation.objects.exists()


def test_a_malformed_observation_is_a_400(api, personas, act) -> None:
    body = saturation(personas.patient, act)
    del body["effectiveDateTime"]
    body["subject"] = {"reference": "Practitioner/x"}
    response = api.post("Observation", body, personas.nurse)
    assert response.status_code == 400
    paths = {i["expression"][0] for i in issues(response)}
    assert paths == {"Observation.subject", "Observation.effectiveDateTime"}


def test_a_gateway_outside_the_act_is_refused_as_not_found(api, personas, act, other_act) -> None:
    pharmacist = other_act.participants.get(role="assistant").user
    for who, patient, encounter in (
        (pharmacist, personas.patient, act),  # not in this act
        (pharmacist, other_act.patient, act),  # an act of another patient
        (personas.cardiologist, personas.patient, act),  # outside the care team
        (personas.patient_user, other_act.patient, other_act),  # a patient, for another
    ):
        response = api.post("Observation", saturation(patient, encounter), who)
        assert response.status_code == 404, (who, response.content)
        assert issues(response)[0]["code"] == "not-found"
    assert not Observation.objects.exists()
    refusals = AuditEntry.objects.filter(action=Action.OBSERVATION_WRITE, outcome=Outcome.DENIED)
    assert refusals.count() == 4


def test_a_stranger_reads_nothing(api, personas, act) -> None:
    reading = actions.record_observation(
        personas.nurse.user, personas.patient, spo2(encounter=act.uuid)
    )
    assert api.get(f"Observation/{reading.uuid}", personas.cardiologist).status_code == 404
    response = api.get(
        f"Observation?patient=Patient/{personas.patient.uuid}", personas.cardiologist
    )
    assert response.status_code == 404
    assert api.get(f"Observation/{reading.uuid}", personas.analyst).status_code == 404
    denied = AuditEntry.objects.filter(action=Action.OBSERVATION_READ, outcome=Outcome.DENIED)
    assert denied.count() == 3


def test_its_performer_updates_a_reading_with_if_match(api, personas, act) -> None:
    created = fhir_json(
        api.post("Observation", saturation(personas.patient, act, 85), personas.nurse)
    )
    body = {**saturation(personas.patient, act, 95), "id": created["id"], "status": "amended"}
    path = f"Observation/{created['id']}"
    stale = api.client.put(
        f"/fhir/r4/{path}",
        body,
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {api.token(personas.nurse)}",
        HTTP_IF_MATCH='W/"7"',
    )
    assert stale.status_code == 412
    response = api.client.put(
        f"/fhir/r4/{path}",
        body,
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {api.token(personas.nurse)}",
        HTTP_IF_MATCH='W/"1"',
    )
    assert response.status_code == 200
    data = fhir_json(response)
    assert (data["valueQuantity"]["value"], data["status"], data["meta"]["versionId"]) == (
        95,
        "amended",
        "2",
    )
    # The doctor did not take it: she marks it, she does not rewrite it.
    other = api.client.put(
        f"/fhir/r4/{path}",
        body,
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {api.token(personas.treating_doctor)}",
    )
    assert other.status_code == 404


def test_devices_are_registered_once_and_referenced(api, personas, act) -> None:
    body = {
        "resourceType": "Device",
        "identifier": [{"system": EUI64_SYSTEM, "value": "00:1b:c5:0c:00:00:12:34"}],
        "manufacturer": "Omron",
        "modelNumber": "M7 Intelli IT",
        "type": {
            "coding": [
                {
                    "system": "https://maillage.example/fhir/CodeSystem/device-kind",
                    "code": "blood_pressure",
                }
            ]
        },
    }
    first = api.post("Device", body, personas.nurse)
    assert first.status_code == 201
    again = api.post("Device", body, personas.nurse)
    assert again.status_code == 200 and fhir_json(again)["id"] == fhir_json(first)["id"]
    assert Device.objects.get().system_id == "001BC50C00001234"
    assert api.post("Device", body, personas.patient_user).status_code == 403
    device = fhir_json(first)
    found = fhir_json(api.get("Device?identifier=001BC50C00001234", personas.treating_doctor))
    assert [e["resource"]["id"] for e in found["entry"]] == [device["id"]]
    reading = blood_pressure(personas.patient, act, device={"reference": f"Device/{device['id']}"})
    created = fhir_json(api.post("Observation", reading, personas.nurse))
    assert created["device"]["reference"] == f"Device/{device['id']}"
    assert created["method"]["coding"][0]["code"] == "bluetooth"
    unknown = blood_pressure(
        personas.patient, act, device={"reference": "Device/0b3c6f8e-0000-4000-8000-000000000000"}
    )
    assert api.post("Observation", unknown, personas.nurse).status_code == 422


@pytest.mark.usefixtures("private_files")
def test_a_photo_is_posted_inline_and_read_through_the_policy(api, personas, act) -> None:
    body: dict[str, Any] = {
        "resourceType": "Media",
        "status": "completed",
        "modality": {
            "coding": [
                {"system": "https://maillage.example/fhir/CodeSystem/media-kind", "code": "photo"}
            ]
        },
        "subject": {"reference": f"Patient/{personas.patient.uuid}"},
        "encounter": {"reference": f"Encounter/{act.uuid}"},
        "createdDateTime": _when(),
        "content": {
            "contentType": "image/png",
            "title": "tympan-droit.png",
            "data": base64.b64encode(PNG).decode(),
        },
    }
    response = api.post("Media", body, personas.nurse)
    assert response.status_code == 201, response.content
    created = fhir_json(response)
    assert Media.objects.get().file.mime == "image/png"
    binary = created["content"]["url"].split("/fhir/r4/")[1]
    file_response = api.get(binary, personas.treating_doctor, HTTP_ACCEPT="image/png")
    assert file_response.status_code == 200 and file_response.content == PNG
    assert api.get(binary, personas.cardiologist, HTTP_ACCEPT="image/png").status_code == 404
    found = fhir_json(
        api.get(f"Media?patient=Patient/{personas.patient.uuid}", personas.patient_user)
    )
    assert [e["resource"]["id"] for e in found["entry"]] == [created["id"]]
    # A program is no photo.
    body["content"]["data"] = base64.b64encode(b"MZ\x90\x00" + b"\x00" * 60).decode()
    refused = api.post("Media", body, personas.nurse)
    assert refused.status_code == 422 and issues(refused)[0]["expression"] == ["Media.content"]


def test_a_component_the_device_could_not_measure_is_left_out(api, personas, act) -> None:
    # Blood-pressure monitors send NaN for the mean pressure they did not compute.
    body = blood_pressure(personas.patient, act)
    body["component"].append(
        {
            "code": {"coding": [{"system": MDC, "code": "150023"}]},
            "dataAbsentReason": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                        "code": "not-a-number",
                    }
                ]
            },
        }
    )
    response = api.post("Observation", body, personas.nurse)
    assert response.status_code == 201
    assert "Observation.component[2]" in response["Warning"]
    assert len(fhir_json(response)["component"]) == 2
    # Without the systolic it is no blood pressure.
    body["component"][0] = body["component"][2]
    response = api.post("Observation", body, personas.nurse)
    assert response.status_code == 422


def test_a_scale_sends_height_and_body_mass_index(api, personas, act) -> None:
    for code, value, unit in (("8302-2", 162.5, "cm"), ("39156-5", 27.4, "kg/m2")):
        body = saturation(personas.patient, act, value, unit)
        body["code"] = {"coding": [{"system": "http://loinc.org", "code": code}]}
        assert api.post("Observation", body, personas.nurse).status_code == 201


def test_blood_pressures_are_searched_by_their_components(api, personas, act) -> None:
    with_mean = blood_pressure(personas.patient, act, systolic=150)
    with_mean["component"].append(
        {
            "code": {"coding": [{"system": "http://loinc.org", "code": "8478-0"}]},
            "valueQuantity": {"value": 107, "system": UCUM, "code": "mm[Hg]"},
        }
    )
    for body in (
        with_mean,
        blood_pressure(personas.patient, act),
        saturation(personas.patient, act),
    ):
        assert api.post("Observation", body, personas.nurse).status_code == 201
    patient = f"patient=Patient/{personas.patient.uuid}"

    def systolics(query: str) -> list[int]:
        data = fhir_json(api.get(f"Observation?{patient}&{query}", personas.treating_doctor))
        return sorted(
            e["resource"]["component"][0]["valueQuantity"]["value"] for e in data.get("entry", [])
        )

    assert systolics("component-code=http://loinc.org|8480-6") == [138, 150]
    assert systolics(f"component-code={MDC}|150022") == [138, 150]
    # The mean is optional: only the panel that holds it.
    assert systolics("component-code=8478-0") == [150]
    assert systolics(f"component-code={MDC}|150023") == [150]
    # A code that is no component, or a component under another system, finds nothing.
    assert systolics("component-code=2708-6") == []
    assert systolics(f"component-code={MDC}|8480-6") == []
    assert systolics("component-code=8480-6,8478-0&code=85354-9") == [138, 150]
    capability = fhir_json(api.get("metadata", personas.treating_doctor))
    [observation] = [r for r in capability["rest"][0]["resource"] if r["type"] == "Observation"]
    named = {p["name"] for p in observation["searchParam"]}
    assert {"patient", "code", "component-code", "date", "encounter", "category"} <= named
