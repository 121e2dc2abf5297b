"""Who gets what out of an export, tried as an attacker would."""

from __future__ import annotations

import pytest

from maillage.audit.models import Action, AuditEntry
from maillage.fhir.bulk.models import ExportFile, ExportJob
from maillage.fhir.bulk.tests.conftest import (
    NDJSON,
    exported,
    file_path,
    ids,
    kick_off,
    manifest,
    run_export,
    status_path,
)
from maillage.fhir.tests.conftest import fhir_json
from maillage.records.models import Consent, ConsentKind
from maillage.tasks.models import WorkStatus

pytestmark = pytest.mark.django_db


def test_a_nurse_export_lacks_what_she_may_not_read(
    api, territory, django_capture_on_commit_callbacks
):
    nurse = territory.personas.nurse
    status = run_export(api, nurse, django_capture_on_commit_callbacks)
    found = exported(api, nurse, status)
    # Identities through her structures (the MSP and the mobile unit).
    assert ids(found["Patient"]) == {str(territory.girard.uuid), str(territory.durand.uuid)}
    # In Girard's care team: the report, not the tele-expertise opinion (habilitation);
    # nothing of Durand's record, whose care team she is not in.
    assert ids(found["DocumentReference"]) == {str(territory.report.uuid)}
    entry = AuditEntry.objects.get(action=Action.BULK_EXPORT, patient=territory.girard)
    assert entry.detail["documents"] == [str(territory.report.uuid)]


def test_a_patient_exports_only_herself(api, territory, django_capture_on_commit_callbacks):
    patient = territory.personas.patient_user
    for path in ("$export", "Patient/$export"):
        status = run_export(api, patient, django_capture_on_commit_callbacks, path)
        found = exported(api, patient, status)
        assert ids(found["Patient"]) == {str(territory.girard.uuid)}
        assert ids(found["DocumentReference"]) == {
            str(territory.report.uuid),
            str(territory.opinion.uuid),
        }
    entries = AuditEntry.objects.filter(action=Action.BULK_EXPORT, patient__isnull=False)
    assert {e.patient_id for e in entries} == {territory.girard.pk}
    assert {e.basis for e in entries} == {"self"}


def test_an_opposed_doctor_exports_nothing_of_her(
    api, territory, django_capture_on_commit_callbacks
):
    doctor = territory.personas.treating_doctor
    Consent.objects.create(
        patient=territory.girard,
        kind=ConsentKind.OPPOSE_PROFESSIONAL,
        professional=doctor,
        recorded_by=territory.personas.patient_user,
    )
    status = run_export(api, doctor, django_capture_on_commit_callbacks)
    found = exported(api, doctor, status)
    assert ids(found["Patient"]) == {str(territory.durand.uuid)}
    assert "DocumentReference" not in found
    assert not AuditEntry.objects.filter(action=Action.BULK_EXPORT, patient=territory.girard)


def test_a_masked_document_stays_out_of_a_nurse_export(
    api, territory, django_capture_on_commit_callbacks
):
    Consent.objects.create(
        patient=territory.girard,
        kind=ConsentKind.MASK_DOCUMENT,
        document=territory.report,
        recorded_by=territory.personas.patient_user,
    )
    nurse = territory.personas.nurse
    status = run_export(api, nurse, django_capture_on_commit_callbacks)
    found = exported(api, nurse, status)
    assert "DocumentReference" not in found


def test_another_user_cannot_read_the_status_nor_the_files(
    api, territory, django_capture_on_commit_callbacks
):
    doctor = territory.personas.treating_doctor
    status = run_export(api, doctor, django_capture_on_commit_callbacks)
    urls = [o["url"] for o in manifest(api, doctor, status)["output"]]
    assert urls
    for other in (
        territory.personas.cardiologist,
        territory.personas.patient_user,
        territory.personas.admin,
    ):
        assert api.get(status, other, HTTP_ACCEPT="application/json").status_code == 404
        assert (
            api.client.delete(
                f"/fhir/r4/{status}", HTTP_AUTHORIZATION=f"Bearer {api.token(other)}"
            ).status_code
            == 404
        )
        for url in urls:
            response = api.get(file_path(url), other, HTTP_ACCEPT=NDJSON)
            assert response.status_code == 404
    # Without a token, nothing; the requester still has everything.
    assert api.get(status, None).status_code == 401
    assert api.get(file_path(urls[0]), None, HTTP_ACCEPT=NDJSON).status_code == 401
    assert ExportFile.objects.count() == len(urls)
    assert not AuditEntry.objects.filter(action=Action.BULK_EXPORT_FILE)
    assert exported(api, doctor, status)


def test_a_guessed_or_malformed_id_is_404(api, territory):
    doctor = territory.personas.treating_doctor
    for path in (
        "$export-status/0b7e6a0e-0000-4000-8000-000000000000",
        "$export-status/not-a-uuid",
        "$export-file/0b7e6a0e-0000-4000-8000-000000000000",
        "$export-file/1",
    ):
        assert api.get(path, doctor, HTTP_ACCEPT="application/json, */*").status_code == 404


def test_she_sees_who_exported_her_data(api, territory, django_capture_on_commit_callbacks):
    doctor = territory.personas.treating_doctor
    run_export(api, doctor, django_capture_on_commit_callbacks)

    response = api.get("AuditEvent", territory.personas.patient_user)
    assert response.status_code == 200
    events = [e["resource"] for e in fhir_json(response)["entry"]]
    [export] = [e for e in events if "fhir.export" in {c["code"] for c in e["subtype"]}]
    assert export["type"]["code"] == "110106"  # DICOM Export
    assert export["action"] == "E"
    assert export["agent"][0]["who"]["reference"] == f"Practitioner/{doctor.uuid}"
    labels = {c.get("display") for c in export["subtype"]}
    assert "a exporté les données dans un export de masse" in labels


def test_rights_are_decided_when_the_job_runs_not_when_it_was_asked(
    api, territory, django_capture_on_commit_callbacks
):
    """She opposes her doctor after his kick-off, before the worker runs it: nothing of hers."""
    doctor = territory.personas.treating_doctor
    with django_capture_on_commit_callbacks(execute=False) as queued:
        kicked = kick_off(api, doctor)
    Consent.objects.create(
        patient=territory.girard,
        kind=ConsentKind.OPPOSE_PROFESSIONAL,
        professional=doctor,
        recorded_by=territory.personas.patient_user,
    )
    for callback in queued:
        callback()
    found = exported(api, doctor, status_path(kicked))
    assert ids(found["Patient"]) == {str(territory.durand.uuid)}
    assert "DocumentReference" not in found


def test_a_requester_deactivated_before_the_run_exports_nobody(
    api, territory, django_capture_on_commit_callbacks
):
    doctor = territory.personas.treating_doctor
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert kick_off(api, doctor).status_code == 202
    doctor.user.is_active = False
    doctor.user.save(update_fields=["is_active"])
    for callback in queued:
        callback()
    job = ExportJob.objects.get()
    assert job.status == WorkStatus.DONE
    assert not job.files.exists()
    assert not AuditEntry.objects.filter(action=Action.BULK_EXPORT, patient__isnull=False)
