"""$export holds the readings, media and devices, under the policy that reads them one by one.

A requester's export holds a patient's Observations and Media exactly when
the API would hand them to the same requester (``Observation?patient=``),
the Devices they name once each, and each patient's audit entry names what
left of her readings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from maillage.audit.models import Action, AuditEntry
from maillage.fhir.bulk.tests.conftest import exported, ids, run_export
from maillage.fhir.tests.conftest import fhir_json
from maillage.files.storage import Upload
from maillage.measurements import actions
from maillage.measurements.models import DeviceKind, MediaKind
from maillage.measurements.tests import conftest as measuring
from maillage.measurements.tests.conftest import blood_pressure, spo2
from maillage.patients.models import Patient

act = measuring.act
other_act = measuring.other_act

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def readings(territory: Any, act: Any, other_act: Any) -> dict[str, Any]:
    """Girard's act: a pressure and a saturation from the van's devices, an otoscope photo;
    Martin's act (the cardiologist's, a pharmacist beside him): a saturation."""
    nurse = territory.personas.nurse.user
    monitor, _ = actions.register_device(
        nurse,
        actions.NewDevice(DeviceKind.BLOOD_PRESSURE, "Omron", "M7", system_id="00A0C9FFFE000001"),
    )
    oximeter, _ = actions.register_device(
        nurse,
        actions.NewDevice(DeviceKind.PULSE_OXIMETER, "Nonin", "3230", system_id="00A0C9FFFE000002"),
    )
    girard = territory.girard
    pressure = actions.record_observation(
        nurse, girard, blood_pressure(encounter=act.uuid, device=monitor)
    )
    saturation = actions.record_observation(
        nurse, girard, spo2(encounter=act.uuid, device=oximeter)
    )
    photo = actions.record_media(
        nurse,
        girard,
        actions.NewMedia(
            MediaKind.PHOTO,
            Upload("tympan.png", PNG),
            timezone.now() - dt.timedelta(minutes=1),
            title="Tympan droit",
            encounter=act.uuid,
            device=monitor,
        ),
    )
    pharmacist = other_act.participants.get(role="assistant").user
    martin = actions.record_observation(
        pharmacist, other_act.patient, spo2("93", encounter=other_act.uuid, device=oximeter)
    )
    return {
        "pressure": pressure,
        "saturation": saturation,
        "photo": photo,
        "martin": martin,
        "devices": {monitor, oximeter},
    }


def _searched(api: Any, who: Any, patient: Any, resource_type: str) -> set[str]:
    response = api.get(f"{resource_type}?patient=Patient/{patient.uuid}", who)
    if response.status_code == 404:
        return set()
    return {e["resource"]["id"] for e in fhir_json(response).get("entry", [])}


def test_the_export_holds_the_readings_the_api_would_show_and_names_them(
    api, territory, readings, other_act, django_capture_on_commit_callbacks
) -> None:
    doctor = territory.personas.treating_doctor
    status = run_export(api, doctor, django_capture_on_commit_callbacks)
    found = exported(api, doctor, status)

    girard = territory.girard
    assert ids(found["Observation"]) == {
        str(readings["pressure"].uuid),
        str(readings["saturation"].uuid),
    }
    # Martin's reading (another doctor's act, another structure's patient) never leaves.
    assert str(readings["martin"].uuid) not in ids(found["Observation"])
    assert ids(found["Media"]) == {str(readings["photo"].uuid)}
    assert ids(found["Device"]) == {str(d.uuid) for d in readings["devices"]}
    # Each line is what the API reads, and the same set a search hands to him.
    pressure = next(r for r in found["Observation"] if r["id"] == str(readings["pressure"].uuid))
    read = fhir_json(api.get(f"Observation/{pressure['id']}", doctor))
    assert {k: v for k, v in pressure.items() if k != "meta"} == {
        k: v for k, v in read.items() if k != "meta"
    }
    assert ids(found["Observation"]) == _searched(api, doctor, girard, "Observation")
    assert ids(found["Media"]) == _searched(api, doctor, girard, "Media")
    assert found["Media"][0]["content"]["url"].endswith(f"Binary/{readings['photo'].file.uuid}")

    entry = AuditEntry.objects.get(
        action=Action.BULK_EXPORT, patient=girard, actor=doctor.user, detail__job__isnull=False
    )
    assert entry.detail["resources"]["Observation"] == 2
    assert entry.detail["resources"]["Media"] == 1
    assert set(entry.detail["observations"]) == ids(found["Observation"])
    assert entry.detail["media"] == [str(readings["photo"].uuid)]


def test_a_requester_exports_only_the_readings_she_could_search(
    api, territory, readings, other_act, django_capture_on_commit_callbacks
) -> None:
    cardiologist = territory.personas.cardiologist
    status = run_export(api, cardiologist, django_capture_on_commit_callbacks)
    found = exported(api, cardiologist, status)
    exported_patients = {r["id"] for r in found.get("Patient", [])}
    searchable: set[str] = set()
    for patient in Patient.objects.filter(uuid__in=exported_patients):
        searchable |= _searched(api, cardiologist, patient, "Observation")
    assert ids(found.get("Observation", [])) == searchable
    # Martin's reading (his hospital follows Martin) is his to export; Girard's is not.
    assert str(readings["martin"].uuid) in searchable
    assert str(readings["pressure"].uuid) not in searchable


def test_the_type_and_since_filters_hold_for_readings(
    api, territory, readings, django_capture_on_commit_callbacks
) -> None:
    doctor = territory.personas.treating_doctor
    status = run_export(
        api, doctor, django_capture_on_commit_callbacks, "$export?_type=Observation,Device"
    )
    found = exported(api, doctor, status)
    assert set(found) == {"Observation", "Device"}
    assert len(found["Observation"]) == 2

    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    since = later.isoformat().replace("+00:00", "Z")
    status = run_export(
        api, doctor, django_capture_on_commit_callbacks, f"$export?_type=Observation&_since={since}"
    )
    assert exported(api, doctor, status) == {}
