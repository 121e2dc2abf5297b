"""An export run by the real worker process (the database queue), as ``make run`` runs it."""

from __future__ import annotations

import pytest

from maillage.fhir.bulk.models import ExportJob
from maillage.fhir.bulk.tests.conftest import exported, ids, kick_off, status_path
from maillage.tasks.models import WorkStatus
from maillage.tasks.tests.conftest import DATABASE_BACKEND
from maillage.tasks.tests.helpers import wait_for, worker


@pytest.mark.usefixtures("transactional_db")
def test_the_worker_runs_an_export_queued_by_the_kick_off(api, territory, settings, tmp_path):
    settings.TASKS = DATABASE_BACKEND
    doctor = territory.personas.treating_doctor
    kicked = kick_off(api, doctor)
    assert kicked.status_code == 202
    job = ExportJob.objects.get()
    assert job.status == WorkStatus.PENDING  # queued by the request, not run by it

    log = tmp_path / "worker.log"
    with worker(log, MAILLAGE_EXPORTS_DIR=settings.MAILLAGE_EXPORTS_DIR) as running:
        done = wait_for(lambda: ExportJob.objects.get().status == WorkStatus.DONE)
        assert done, running.output()

    found = exported(api, doctor, status_path(kicked))
    assert ids(found["Patient"]) == {str(territory.girard.uuid), str(territory.durand.uuid)}
    assert ids(found["DocumentReference"]) == {
        str(territory.report.uuid),
        str(territory.opinion.uuid),
    }
