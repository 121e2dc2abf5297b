"""meta.versionId and meta.lastUpdated on every resource, ETag and Last-Modified on reads."""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime

import pytest

from maillage.audit.models import Action, AuditEntry
from maillage.fhir.router import Interaction
from maillage.fhir.routes import ROUTES
from maillage.fhir.tests.conftest import FHIR_JSON, document, fhir_json, in_care_team
from maillage.fhir.tests.expertise_helpers import ask_pool
from maillage.messaging.tests.conftest import send_about_patient
from maillage.records import actions

pytestmark = pytest.mark.usefixtures("private_files")


def _reads(personas):
    """One resource of every type the API reads, with who may read it."""
    doctor, patient = personas.treating_doctor, personas.patient
    in_care_team(doctor, patient)
    filed = document(doctor, patient)
    consent = actions.oppose_professional(personas.patient_user, patient, personas.cardiologist)
    message = send_about_patient(personas)
    practice = doctor.practices.first()
    api_reads = {
        "Patient": (f"Patient/{patient.uuid}", doctor),
        "Practitioner": (f"Practitioner/{doctor.uuid}", doctor),
        "PractitionerRole": (f"PractitionerRole/{practice.uuid}", doctor),
        "Organization": (f"Organization/{personas.msp.uuid}", doctor),
        "Location": (f"Location/{personas.msp.uuid}", doctor),
        "DocumentReference": (f"DocumentReference/{filed.uuid}", doctor),
        "Binary": (f"Binary/{filed.files.first().uuid}", doctor),
        "Consent": (f"Consent/{consent.uuid}", personas.patient_user),
        "Communication": (f"Communication/{message.uuid}", doctor),
    }
    return api_reads


def _appointment(personas):
    """A booked appointment of the patient (maillage.agenda)."""
    from maillage.agenda import actions as agenda
    from maillage.agenda.models import Schedule, Slot
    from maillage.agenda.tests.conftest import every_day

    schedule = Schedule.objects.create(
        professional=personas.treating_doctor, structure=personas.msp, min_notice_minutes=0
    )
    every_day(schedule)
    slot = Slot.objects.filter(schedule=schedule).order_by("start").first()
    assert slot is not None
    return agenda.book(
        personas.patient_user,
        agenda.Booking(slot.uuid, personas.patient.uuid, "remote", "Suivi"),
    )


def _readings(personas):
    """A reading with its device and a photo, recorded by the médecin traitant."""
    from decimal import Decimal

    from django.utils import timezone

    from maillage.fhir.tests.test_observation import PNG
    from maillage.files.storage import Upload
    from maillage.measurements import actions as measurements
    from maillage.measurements.models import DeviceKind, MediaKind

    gp = personas.treating_doctor.user
    device, _created = measurements.register_device(
        gp, measurements.NewDevice(DeviceKind.PULSE_OXIMETER, system_id="005F310504030299")
    )
    when = timezone.now() - dt.timedelta(minutes=5)
    reading = measurements.record_observation(
        gp,
        personas.patient,
        measurements.NewReading(
            code="2708-6", effective_at=when, value=Decimal(96), unit="%", device=device
        ),
    )
    photo = measurements.record_media(
        gp,
        personas.patient,
        measurements.NewMedia(MediaKind.PHOTO, Upload("tympan.png", PNG), taken_at=when),
    )
    return {
        "Observation": (f"Observation/{reading.uuid}", personas.treating_doctor),
        "Device": (f"Device/{device.uuid}", personas.treating_doctor),
        "Media": (f"Media/{photo.uuid}", personas.treating_doctor),
    }


def test_it_puts_a_version_and_a_date_on_every_resource_type_it_reads(api, personas, dermatology):
    reads = _reads(personas)
    asked = ask_pool(personas, dermatology)
    reads["ServiceRequest"] = (f"ServiceRequest/{asked.uuid}", personas.treating_doctor)
    reads["Task"] = (f"Task/{asked.uuid}", personas.treating_doctor)
    entry = AuditEntry.objects.filter(patient=personas.patient).earliest("seq")
    reads["AuditEvent"] = (f"AuditEvent/{entry.seq}", personas.patient_user)
    booked = _appointment(personas)
    reads["Schedule"] = (f"Schedule/{booked.slot.schedule.uuid}", personas.patient_user)
    reads["Slot"] = (f"Slot/{booked.slot.uuid}", personas.patient_user)
    reads["Appointment"] = (f"Appointment/{booked.uuid}", personas.patient_user)
    from maillage.teleconsult import actions as teleconsult

    act = teleconsult.for_appointment(personas.patient_user, booked.uuid)
    reads["Encounter"] = (f"Encounter/{act.uuid}", personas.treating_doctor)
    reads.update(_readings(personas))
    readable = {r.resource_type for r in ROUTES if r.interaction is Interaction.READ}
    assert set(reads) == readable

    for resource_type, (path, who) in reads.items():
        response = api.get(path, who, HTTP_ACCEPT=FHIR_JSON)

        assert response.status_code == 200, resource_type
        resource = fhir_json(response)
        version = resource["meta"]["versionId"]
        last_updated = dt.datetime.fromisoformat(resource["meta"]["lastUpdated"])
        assert response["ETag"] == f'W/"{version}"', resource_type
        assert parsedate_to_datetime(response["Last-Modified"]) == last_updated.replace(
            microsecond=0
        ), resource_type


def test_resources_that_never_change_are_at_version_1_from_their_creation(api, personas):
    message = send_about_patient(personas)

    resource = fhir_json(api.get(f"Communication/{message.uuid}", personas.treating_doctor))

    assert resource["meta"]["versionId"] == "1"
    assert dt.datetime.fromisoformat(resource["meta"]["lastUpdated"]) == message.sent_at


def test_every_entry_of_a_search_has_its_meta(api, personas):
    response = api.get("Practitioner", personas.nurse)

    entries = fhir_json(response)["entry"]
    assert entries
    assert all(e["resource"]["meta"]["versionId"] == "1" for e in entries)
    assert all("lastUpdated" in e["resource"]["meta"] for e in entries)
    # A Bundle is not one resource: no ETag.
    assert "ETag" not in response


def test_a_directory_change_moves_last_updated(api, personas):
    doctor = personas.cardiologist
    before = fhir_json(api.get(f"Practitioner/{doctor.uuid}", personas.nurse))["meta"]

    doctor.phone = "0248000000"
    doctor.save()

    after = fhir_json(api.get(f"Practitioner/{doctor.uuid}", personas.nurse))["meta"]
    assert after["lastUpdated"] > before["lastUpdated"]


def test_the_patient_read_carries_her_version(api, personas):
    response = api.get(f"Patient/{personas.patient.uuid}", personas.treating_doctor)

    assert fhir_json(response)["meta"]["versionId"] == "1"
    assert response["ETag"] == 'W/"1"'
    assert AuditEntry.objects.filter(action=Action.PATIENT_READ).count() == 1


def test_a_client_holding_the_current_version_gets_304(api, personas):
    path = f"Patient/{personas.patient.uuid}"

    for held in ('W/"1"', '"1"', "1", '"7", W/"1"'):
        response = api.get(path, personas.treating_doctor, HTTP_IF_NONE_MATCH=held)

        assert response.status_code == 304, held
        assert response.content == b""
        assert response["ETag"] == 'W/"1"'
    older = api.get(path, personas.treating_doctor, HTTP_IF_NONE_MATCH='W/"0"')
    assert older.status_code == 200
    assert fhir_json(older)["meta"]["versionId"] == "1"
    # Each is still a read of her identity, on her trail.
    assert AuditEntry.objects.filter(action=Action.PATIENT_READ).count() == 5


def test_the_bytes_of_a_binary_carry_its_version_too(api, personas):
    in_care_team(personas.treating_doctor, personas.patient)
    filed = document(personas.treating_doctor, personas.patient)
    stored = filed.files.first()

    response = api.get(f"Binary/{stored.uuid}", personas.treating_doctor, HTTP_ACCEPT="*/*")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["ETag"] == 'W/"1"'
    assert parsedate_to_datetime(response["Last-Modified"]) == stored.created_at.replace(
        microsecond=0
    )


def test_no_304_for_a_type_whose_version_stays_while_it_changes(api, personas):
    # A directory entry keeps version 1 while it is edited: a client holding
    # "1" always gets it anew rather than a stale copy.
    response = api.get(
        f"Practitioner/{personas.cardiologist.uuid}", personas.nurse, HTTP_IF_NONE_MATCH='W/"1"'
    )

    assert response.status_code == 200
    assert fhir_json(response)["meta"]["versionId"] == "1"
