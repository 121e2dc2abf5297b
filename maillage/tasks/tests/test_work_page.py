"""The administrators' page of background work: what it lists, and who is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from maillage.front.tests.test_home import signed_in
from maillage.messaging.tests.conftest import fr
from maillage.tasks import schedule
from maillage.tasks.models import MailKind, OutgoingMail, ScheduledRun, WorkStatus
from maillage.tasks.tests.conftest import DATABASE_BACKEND
from maillage.tasks.tests.jobs import broken_task
from maillage.testing.factories import page_text

URL = "/travail/"


def test_it_lists_a_failed_task_with_the_counts(transactional_db, personas, settings) -> None:
    settings.TASKS = DATABASE_BACKEND
    broken_task.enqueue()
    call_command("run_worker", "--batch")  # the real worker runs it and records the failure
    OutgoingMail.objects.create(
        key="notice:x",
        kind=MailKind.NOTICE,
        to_address="micheline.girard@example.org",
        message_id="<x@maillage.invalid>",
        subject="Maillage",
        status=WorkStatus.FAILED,
        attempts=6,
        finished_at=timezone.now(),
        error="550 5.1.1 no such user",
    )

    response = signed_in(personas.admin).get(URL)

    assert response.status_code == 200
    text = page_text(response)
    assert fr("Failed tasks") in text
    assert "broken_task" in text and "RuntimeError" in text
    assert "550 5.1.1 no such user" in text
    # Where mail fails, not to whom a notice went.
    assert "micheline.girard" not in text and "…@example.org" in text
    assert fr("Queue: the database.") in text
    assert len(response.content) < 150 * 1024


@pytest.mark.django_db
def test_it_lists_a_periodic_run_failed_and_retried(
    personas, settings, django_capture_on_commit_callbacks
) -> None:
    settings.MAILLAGE_PERIODIC_JOBS = [("exploding", 60, "maillage.tasks.tests.jobs.explode")]
    with django_capture_on_commit_callbacks(execute=True):
        [run] = [r for r in schedule.tick() if r.job == "exploding"]
    run.refresh_from_db()
    assert run.status == WorkStatus.PENDING and run.attempts == 1  # to be tried again
    assert "the job broke" in run.error
    text = page_text(signed_in(personas.admin).get(URL))
    assert "exploding" in text and "the job broke" in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who",
    [
        "treating_doctor",
        "patient_user",
        "analyst",
        "regulator",
        "nurse",
        "social_worker",
        "coordinator",
    ],
)
def test_anyone_but_an_administrator_is_refused(personas, who) -> None:
    response = signed_in(personas.user(who)).get(URL)
    assert response.status_code == 403
    assert "broken_task" not in response.content.decode()


@pytest.mark.django_db
def test_a_staff_account_without_the_admin_role_is_refused(personas) -> None:
    analyst = personas.user("analyst")
    analyst.is_staff = True
    analyst.save()
    assert signed_in(analyst).get(URL).status_code == 403


@pytest.mark.django_db
def test_an_administrator_who_is_not_staff_is_refused(personas) -> None:
    admin = personas.admin
    admin.is_staff = False
    admin.save()
    assert signed_in(admin).get(URL).status_code == 403


@pytest.mark.django_db
def test_a_visitor_is_sent_to_sign_in(client) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "/comptes/" in response["Location"]


@pytest.mark.django_db
def test_it_only_reads(personas) -> None:
    response = signed_in(personas.admin).post(URL)
    assert response.status_code == 405


@pytest.mark.django_db
def test_the_admin_home_offers_the_page_and_others_do_not(personas) -> None:
    assert URL in signed_in(personas.admin).get("/").content.decode()
    assert URL not in signed_in(personas.treating_doctor.user).get("/").content.decode()


@pytest.mark.django_db
def test_an_old_running_task_is_shown_as_interrupted(personas, settings) -> None:
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DATABASE_BACKEND
    result = broken_task.enqueue()
    DBTaskResult.objects.filter(id=result.id).update(
        status="RUNNING", started_at=timezone.now() - dt.timedelta(hours=2)
    )
    text = page_text(signed_in(personas.admin).get(URL))
    assert fr("interrupted: its worker stopped; its work is taken over") in text
    assert ScheduledRun.objects.count() == 0  # reading the page runs nothing
