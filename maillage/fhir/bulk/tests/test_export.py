"""$export end to end: kick-off, the job, the status URL, the NDJSON files, the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.bulk import build
from maillage.fhir.bulk.models import ExportFile, ExportJob
from maillage.fhir.bulk.tests.conftest import (
    KICK_OFF,
    download,
    exported,
    file_path,
    ids,
    kick_off,
    manifest,
    run_export,
    status_path,
)
from maillage.fhir.tests.conftest import fhir_json
from maillage.records import actions
from maillage.tasks.models import WorkStatus
from maillage.testing import factories as f

pytestmark = pytest.mark.django_db


def test_it_exports_what_the_doctor_may_read_and_audits_each_patient(
    api, territory, django_capture_on_commit_callbacks
):
    doctor = territory.personas.treating_doctor
    status = run_export(api, doctor, django_capture_on_commit_callbacks)

    data = manifest(api, doctor, status)
    assert data["requiresAccessToken"] is True
    assert data["request"].endswith("/fhir/r4/$export")
    assert data["error"] == []
    assert dt.datetime.fromisoformat(data["transactionTime"]).tzinfo is not None
    found = exported(api, doctor, status)
    # The MSP's patients (identity by his structure), not the hospital's.
    assert ids(found["Patient"]) == {str(territory.girard.uuid), str(territory.durand.uuid)}
    # Documents of the record he may read (his patient's), not Durand's: no record relation.
    assert ids(found["DocumentReference"]) == {
        str(territory.report.uuid),
        str(territory.opinion.uuid),
    }
    subjects = {r["subject"]["reference"] for r in found["DocumentReference"]}
    assert subjects == {f"Patient/{territory.girard.uuid}"}

    job = ExportJob.objects.get()
    entries = AuditEntry.objects.filter(action=Action.BULK_EXPORT, patient__isnull=False)
    by_patient = {e.patient_id: e for e in entries}
    assert set(by_patient) == {territory.girard.pk, territory.durand.pk}
    girard = by_patient[territory.girard.pk]
    assert girard.outcome == Outcome.GRANTED
    assert girard.detail["job"] == str(job.uuid)
    assert girard.detail["resources"] == {"Patient": 1, "DocumentReference": 2}
    assert set(girard.detail["documents"]) == {
        str(territory.report.uuid),
        str(territory.opinion.uuid),
    }
    assert girard.basis == "treating_doctor"
    assert by_patient[territory.durand.pk].detail["resources"] == {"Patient": 1}
    # The request itself is on the requester's trail, and each download.
    requested = AuditEntry.objects.get(action=Action.BULK_EXPORT, patient__isnull=True)
    assert requested.detail["step"] == "requested"
    downloads = AuditEntry.objects.filter(action=Action.BULK_EXPORT_FILE)
    assert {d.detail["type"] for d in downloads} == {"Patient", "DocumentReference"}


def test_a_pending_job_answers_202_with_its_progress(api, territory):
    doctor = territory.personas.treating_doctor
    response = kick_off(api, doctor)  # the job is enqueued only when the test commits
    assert response.status_code == 202
    assert fhir_json(response)["resourceType"] == "OperationOutcome"
    status = api.get(status_path(response), doctor, HTTP_ACCEPT="application/json")
    assert status.status_code == 202
    assert status["X-Progress"] == "en attente"
    assert status["Retry-After"]
    assert ExportJob.objects.get().status == WorkStatus.PENDING


def test_the_patient_level_kick_off_and_the_type_and_since_filters(
    api, territory, django_capture_on_commit_callbacks
):
    doctor = territory.personas.treating_doctor
    status = run_export(
        api,
        doctor,
        django_capture_on_commit_callbacks,
        "Patient/$export?_type=DocumentReference&_outputFormat=application%2Ffhir%2Bndjson",
    )
    found = exported(api, doctor, status)
    assert set(found) == {"DocumentReference"}

    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    since = later.isoformat().replace("+00:00", "Z")
    status = run_export(api, doctor, django_capture_on_commit_callbacks, f"$export?_since={since}")
    assert manifest(api, doctor, status)["output"] == []


def test_the_files_are_sealed_on_disk(
    api, territory, exports_dir, django_capture_on_commit_callbacks
):
    doctor = territory.personas.treating_doctor
    status = run_export(api, doctor, django_capture_on_commit_callbacks)
    output = manifest(api, doctor, status)["output"]
    assert output
    for stored in ExportFile.objects.all():
        blob = (exports_dir / stored.path).read_bytes()
        assert blob.startswith(b"MLG1")
        assert b"GIRARD" not in blob and b"resourceType" not in blob
    # A blob moved under another file's id does not open: 500, logged, never the bytes.
    first, second = ExportFile.objects.all()[:2]
    (exports_dir / second.path).write_bytes((exports_dir / first.path).read_bytes())
    second_url = next(o["url"] for o in output if o["url"].endswith(str(second.uuid)))
    response = api.get(file_path(second_url), doctor, HTTP_ACCEPT="application/fhir+ndjson")
    assert response.status_code == 500


def test_a_file_is_sent_as_ndjson_only(api, territory, django_capture_on_commit_callbacks):
    doctor = territory.personas.treating_doctor
    status = run_export(api, doctor, django_capture_on_commit_callbacks)
    url = manifest(api, doctor, status)["output"][0]["url"]
    refused = api.get(file_path(url), doctor, HTTP_ACCEPT="text/html")
    assert refused.status_code == 406
    assert download(api, doctor, url)


def test_the_capability_statement_names_the_operations(api, personas):
    statement = fhir_json(api.get("metadata"))
    rest = statement["rest"][0]
    assert {o["name"] for o in rest["operation"]} == {"export"}
    patient = next(r for r in rest["resource"] if r["type"] == "Patient")
    assert [o["definition"] for o in patient["operation"]] == [
        "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"
    ]
    codes = {i["code"] for r in rest["resource"] for i in r["interaction"]}
    assert not any(code.startswith("export") for code in codes)


def test_kick_off_headers_are_what_the_ig_asks(api, territory):
    doctor = territory.personas.treating_doctor
    assert kick_off(api, doctor).status_code == 202
    assert api.get("$export", doctor, **KICK_OFF).status_code == 202


def test_each_line_is_the_resource_the_api_reads(
    api, territory, django_capture_on_commit_callbacks
):
    """Same mappers, same versions: an export line and a read of the same resource agree."""
    doctor = territory.personas.treating_doctor
    actions.withdraw_document(doctor.user, territory.opinion, "Mauvais patient")
    status = run_export(api, doctor, django_capture_on_commit_callbacks)
    found = exported(api, doctor, status)
    for resource_type, resources in found.items():
        for resource in resources:
            read = api.get(f"{resource_type}/{resource['id']}", doctor)
            assert read.status_code == 200
            assert fhir_json(read) == resource
    withdrawn = next(
        r for r in found["DocumentReference"] if r["id"] == str(territory.opinion.uuid)
    )
    assert withdrawn["status"] == "entered-in-error"
    assert withdrawn["meta"]["versionId"] == "2"


def test_since_takes_what_changed_after_it(api, territory, django_capture_on_commit_callbacks):
    doctor = territory.personas.treating_doctor
    since = timezone.now()
    actions.withdraw_document(doctor.user, territory.opinion, "Mauvais patient")
    query = "_since=" + since.isoformat().replace("+00:00", "Z")
    status = run_export(api, doctor, django_capture_on_commit_callbacks, f"$export?{query}")
    found = exported(api, doctor, status)
    # Only the withdrawn document changed since; no identity did.
    assert set(found) == {"DocumentReference"}
    assert ids(found["DocumentReference"]) == {str(territory.opinion.uuid)}
    entry = AuditEntry.objects.get(action=Action.BULK_EXPORT, patient__isnull=False)
    assert entry.patient_id == territory.girard.pk
    assert entry.detail["resources"] == {"DocumentReference": 1}


def _queries_of_a_run(api, doctor, capture) -> int:
    with capture(execute=False):
        assert kick_off(api, doctor).status_code == 202
    job = ExportJob.objects.latest("pk")
    with CaptureQueriesContext(connection) as queries:
        assert build.run(job.pk) == WorkStatus.DONE
    return len(queries.captured_queries)


def test_a_patient_more_costs_a_few_queries_not_a_page_of_them(
    api, territory, django_capture_on_commit_callbacks
):
    doctor = territory.personas.treating_doctor
    before = _queries_of_a_run(api, doctor, django_capture_on_commit_callbacks)
    for day in range(1, 6):
        f.patient(
            "MARTIN", "Jean", dt.date(1950, 1, day), "M", followed_by=(territory.personas.msp,)
        )
    after = _queries_of_a_run(api, doctor, django_capture_on_commit_callbacks)
    # Each patient of the list: her consents, then the relations that open her
    # record (care team, emergency opening); the list itself is read by chunks. A patient
    # without any reading costs nothing more (``build.Writer.holds_readings``).
    assert after - before <= 5 * 3


def test_a_plus_left_unencoded_in_the_query_still_reads(
    api, territory, django_capture_on_commit_callbacks
):
    doctor = territory.personas.treating_doctor
    query = "_outputFormat=application/fhir+ndjson&_since=2000-01-01T00:00:00+01:00"
    status = run_export(api, doctor, django_capture_on_commit_callbacks, f"$export?{query}")
    assert ExportJob.objects.get().since == dt.datetime(1999, 12, 31, 23, tzinfo=dt.UTC)
    assert manifest(api, doctor, status)["output"]


def test_a_type_spreads_over_several_files_when_one_fills_up(
    api, territory, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(build, "LINES_PER_FILE", 1)
    doctor = territory.personas.treating_doctor
    status = run_export(api, doctor, django_capture_on_commit_callbacks)
    output = manifest(api, doctor, status)["output"]
    assert sorted((o["type"], o["count"]) for o in output) == [
        ("DocumentReference", 1),
        ("DocumentReference", 1),
        ("Patient", 1),
        ("Patient", 1),
    ]
    found = exported(api, doctor, status)
    assert ids(found["Patient"]) == {str(territory.girard.uuid), str(territory.durand.uuid)}
    assert len(found["DocumentReference"]) == 2
