"""DELETE on the status URL, failures, the sweep and expiry: nothing left behind, then 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.bulk import build, upkeep
from maillage.fhir.bulk.models import ExportFile, ExportJob
from maillage.fhir.bulk.tests.conftest import (
    NDJSON,
    file_path,
    kick_off,
    manifest,
    run_export,
    status_path,
)
from maillage.fhir.tests.conftest import issues
from maillage.tasks import claims, schedule
from maillage.tasks.models import WorkStatus

pytestmark = pytest.mark.django_db


def _delete(api, who, path):
    return api.client.delete(f"/fhir/r4/{path}", HTTP_AUTHORIZATION=f"Bearer {api.token(who)}")


def test_delete_cancels_and_removes_the_files(
    api, territory, exports_dir, django_capture_on_commit_callbacks
):
    doctor = territory.personas.treating_doctor
    status = run_export(api, doctor, django_capture_on_commit_callbacks)
    urls = [o["url"] for o in manifest(api, doctor, status)["output"]]
    job = ExportJob.objects.get()
    assert (exports_dir / str(job.uuid)).is_dir()

    response = _delete(api, doctor, status)
    assert response.status_code == 202
    assert issues(response)[0]["severity"] == "information"
    assert "annulé" in issues(response)[0]["diagnostics"]
    assert api.get(status, doctor, HTTP_ACCEPT="application/json").status_code == 404
    for url in urls:
        assert api.get(file_path(url), doctor, HTTP_ACCEPT=NDJSON).status_code == 404
    assert not (exports_dir / str(job.uuid)).exists()
    assert not ExportJob.objects.exists() and not ExportFile.objects.exists()
    cancelled = AuditEntry.objects.get(action=Action.BULK_EXPORT, detail__step="cancelled")
    assert cancelled.actor == doctor.user
    assert _delete(api, doctor, status).status_code == 404


def test_a_job_cancelled_before_it_runs_never_runs(
    api, territory, django_capture_on_commit_callbacks
):
    doctor = territory.personas.treating_doctor
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        kicked = kick_off(api, doctor)
    job = ExportJob.objects.get()
    assert _delete(api, doctor, status_path(kicked)).status_code == 202
    for callback in callbacks:  # the queue delivers the task after all
        callback()
    assert build.run(job.pk) == "not claimed"
    assert not AuditEntry.objects.filter(action=Action.BULK_EXPORT, patient__isnull=False)


def test_a_job_cancelled_while_it_runs_leaves_nothing(
    api, territory, exports_dir, monkeypatch, django_capture_on_commit_callbacks
):
    """A client's DELETE lands between two patients: the attempt finds its claim gone."""
    doctor = territory.personas.treating_doctor
    real = build.export_one
    state = {"status": ""}

    def export_one_then_cancel(job, writer, item):  # the client cancels meanwhile
        detail = real(job, writer, item)
        writer.close()  # some files are already on disk
        if state["status"]:
            assert _delete(api, doctor, state["status"]).status_code == 202
            state["status"] = ""
        return detail

    monkeypatch.setattr(build, "export_one", export_one_then_cancel)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        kicked = kick_off(api, doctor)
    state["status"] = status_path(kicked)
    job = ExportJob.objects.get()
    for callback in callbacks:
        callback()

    assert not ExportJob.objects.filter(pk=job.pk).exists()
    assert not ExportFile.objects.exists()
    assert not list(exports_dir.rglob("*.sealed"))
    entries = AuditEntry.objects.filter(action=Action.BULK_EXPORT, patient__isnull=False)
    assert entries  # decided, then not handed over: failed, never "granted"
    assert {(e.outcome, e.detail["failure"]) for e in entries} == {(Outcome.FAILED, "cancelled")}


def test_a_failed_job_answers_500_and_its_patients_entries_say_failed(
    api, territory, settings, tmp_path, django_capture_on_commit_callbacks
):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    settings.MAILLAGE_EXPORTS_DIR = str(blocker)
    settings.MAILLAGE_TASK_MAX_ATTEMPTS = 1
    doctor = territory.personas.treating_doctor
    status = run_export(api, doctor, django_capture_on_commit_callbacks)

    response = api.get(status, doctor, HTTP_ACCEPT="application/json")
    assert response.status_code == 500
    assert "L'export a échoué" in issues(response)[0]["diagnostics"]
    assert ExportJob.objects.get().status == WorkStatus.FAILED
    entries = AuditEntry.objects.filter(action=Action.BULK_EXPORT, patient__isnull=False)
    assert {e.outcome for e in entries} == {Outcome.FAILED}


def test_a_lost_enqueue_is_swept_and_runs(api, territory, django_capture_on_commit_callbacks):
    doctor = territory.personas.treating_doctor
    with django_capture_on_commit_callbacks(execute=False):
        kicked = kick_off(api, doctor)  # the queue never got it
    job = ExportJob.objects.get()
    later = timezone.now() + claims.claim_timeout() + dt.timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert upkeep.sweep_exports(later) == 1
    job.refresh_from_db()
    assert job.status == WorkStatus.DONE
    assert manifest(api, doctor, status_path(kicked))["output"]
    with django_capture_on_commit_callbacks(execute=True):
        assert upkeep.sweep_exports(later) == 0


def test_an_expired_export_is_gone(
    api, territory, exports_dir, settings, django_capture_on_commit_callbacks
):
    doctor = territory.personas.treating_doctor
    status = run_export(api, doctor, django_capture_on_commit_callbacks)
    urls = [o["url"] for o in manifest(api, doctor, status)["output"]]
    job = ExportJob.objects.get()
    expires = job.expires_at
    assert expires is not None
    expected = timezone.now() + dt.timedelta(hours=settings.MAILLAGE_EXPORT_HOURS)
    assert abs((expires - expected).total_seconds()) < 60

    assert upkeep.expire(expires - dt.timedelta(seconds=1)) == 0
    # Past its time: 404 at once, before the hourly upkeep deletes it.
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now())
    assert api.get(status, doctor, HTTP_ACCEPT="application/json").status_code == 404
    for url in urls:
        assert api.get(file_path(url), doctor, HTTP_ACCEPT=NDJSON).status_code == 404
    assert upkeep.expire(timezone.now()) == 1
    assert not ExportJob.objects.exists() and not ExportFile.objects.exists()
    assert not (exports_dir / str(job.uuid)).exists()
    assert upkeep.expire(timezone.now()) == 0


def test_the_scheduler_deletes_an_expired_export(
    api, territory, exports_dir, django_capture_on_commit_callbacks
):
    doctor = territory.personas.treating_doctor
    status = run_export(api, doctor, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    # Expired two hours ago: the hourly run due at the start of this hour deletes it.
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - dt.timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        created = schedule.tick(timezone.now())
    [run] = [r for r in created if r.job == "bulk_export_expiry"]
    run.refresh_from_db()
    assert run.status == WorkStatus.DONE, run.error
    assert not ExportJob.objects.exists()
    assert not (exports_dir / str(job.uuid)).exists()
    assert api.get(status, doctor, HTTP_ACCEPT="application/json").status_code == 404
