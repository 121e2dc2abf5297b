"""The scheduler: each due time of a job runs once, missed ones are not replayed one by one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError

from maillage.tasks import schedule
from maillage.tasks.models import ScheduledRun, WorkStatus
from maillage.tasks.schedule import Periodic

JOB = ("test_mark", 15, "maillage.tasks.tests.jobs.mark")
NOON = dt.datetime(2026, 12, 2, 12, 7, 30, tzinfo=dt.UTC)


@pytest.fixture
def marks(settings, tmp_path, monkeypatch):
    settings.MAILLAGE_PERIODIC_JOBS = [JOB]
    path = tmp_path / "marks.txt"
    path.touch()
    monkeypatch.setenv("MAILLAGE_TEST_MARK_FILE", str(path))
    return path


def test_the_due_time_is_the_last_multiple_of_the_period() -> None:
    job = Periodic(*JOB)
    assert job.latest_due(NOON) == dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
    assert job.latest_due(dt.datetime(2026, 12, 2, 12, 15, tzinfo=dt.UTC)).minute == 15
    assert Periodic("daily", 1440, "x").latest_due(NOON) == dt.datetime(2026, 12, 2, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_each_due_time_runs_once_however_often_the_scheduler_ticks(
    marks, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        [first] = [r for r in schedule.tick(NOON) if r.job == "test_mark"]
        # Only the test's job is followed: the platform's own jobs (a minute
        # job for tele-expertise deadlines) tick beside it.
        assert [r for r in schedule.tick(NOON) if r.job == "test_mark"] == []
        later = schedule.tick(NOON + dt.timedelta(minutes=7))
        assert [r for r in later if r.job == "test_mark"] == []
        [second] = [
            r for r in schedule.tick(NOON + dt.timedelta(minutes=8)) if r.job == "test_mark"
        ]
    assert [first.due_at.minute, second.due_at.minute] == [0, 15]
    assert marks.read_text().splitlines() == [first.due_at.isoformat(), second.due_at.isoformat()]
    assert set(ScheduledRun.objects.values_list("status", flat=True)) == {WorkStatus.DONE}


@pytest.mark.django_db
def test_due_times_missed_while_down_run_once_for_the_latest(
    marks, django_capture_on_commit_callbacks
) -> None:
    ScheduledRun.objects.create(
        job="test_mark", due_at=NOON - dt.timedelta(hours=5), status=WorkStatus.DONE
    )
    with django_capture_on_commit_callbacks(execute=True):
        created = [r for r in schedule.tick(NOON) if r.job == "test_mark"]
    assert [r.due_at for r in created] == [NOON.replace(minute=0, second=0)]
    assert len(marks.read_text().splitlines()) == 1


@pytest.mark.django_db
def test_a_second_scheduler_cannot_create_the_same_run(marks) -> None:
    due = NOON.replace(minute=0, second=0)
    ScheduledRun.objects.create(job="test_mark", due_at=due)
    with pytest.raises(IntegrityError):
        ScheduledRun.objects.create(job="test_mark", due_at=due)


@pytest.mark.django_db
def test_a_run_whose_worker_died_runs_again_after_the_timeout(
    marks, settings, django_capture_on_commit_callbacks
) -> None:
    due = NOON.replace(minute=0, second=0)
    long_ago = NOON - dt.timedelta(hours=1)
    ScheduledRun.objects.create(
        job="test_mark",
        due_at=due,
        status=WorkStatus.RUNNING,
        attempts=1,
        claimed_at=long_ago,
        enqueued_at=long_ago,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule.sweep(long_ago + dt.timedelta(seconds=10)) == 0  # still in its time
        assert schedule.sweep() == 1
        assert schedule.sweep() == 0
    run = ScheduledRun.objects.get(job="test_mark")
    assert run.status == WorkStatus.DONE and run.attempts == 2
    assert marks.read_text().splitlines() == [due.isoformat()]


@pytest.mark.django_db
def test_an_unknown_job_fails_without_running_anything(
    settings, django_capture_on_commit_callbacks
) -> None:
    run = ScheduledRun.objects.create(job="gone", due_at=NOON)
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule.run(run.pk) == WorkStatus.FAILED
    run.refresh_from_db()
    assert run.error == "unknown job"
