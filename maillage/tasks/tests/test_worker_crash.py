"""A worker killed (SIGKILL) while the relay holds its mail, restarted: the mail arrives once.

Real processes: ``manage.py run_worker`` on the test database (the SQLite
file in MAILLAGE_VAR_DIR, or the PostgreSQL test database), a real aiosmtpd
relay over STARTTLS that holds the first mail in DATA until the worker is
dead.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import pytest

from maillage.messaging import actions
from maillage.messaging.models import DeliveryStatus
from maillage.tasks.mail import SENDING, SENT
from maillage.tasks.models import OutgoingMail, ScheduledRun, WorkStatus
from maillage.tasks.schedule import Periodic
from maillage.tasks.tests.conftest import DATABASE_BACKEND
from maillage.tasks.tests.helpers import wait_for, worker
from maillage.testing import factories as f

OUTSIDE = "anne.petit@medecin.mssante.fr"


def _send_outside(personas) -> actions.Message:
    outside = f.professional(
        None, last_name="Petit", first_name="Anne", secure_messaging_address=OUTSIDE
    )
    return actions.send_message(
        personas.treating_doctor.user,
        actions.Draft(
            subject="Avis sur Mme Girard",
            body="Pouvez-vous la voir cette semaine ?",
            professionals=[outside],
            patient_uuid=personas.patient.uuid,
        ),
    )


def _mail(message) -> OutgoingMail:
    return OutgoingMail.objects.get(delivery__message=message)


def test_a_worker_killed_while_sending_is_replaced_and_the_mail_arrives_once(
    transactional_db, personas, relay, settings, tmp_path
) -> None:
    settings.TASKS = DATABASE_BACKEND
    message = _send_outside(personas)
    mail = _mail(message)
    assert mail.status == WorkStatus.PENDING  # queued by the request, not sent by it
    assert relay.received == []

    log = tmp_path / "worker.log"
    env = {**relay.env, "MAILLAGE_TASK_CLAIM_TIMEOUT": "2"}
    with worker(log, **env) as first:
        assert relay.holding.wait(60), first.output()
        mail.refresh_from_db()
        assert mail.status == SENDING and mail.attempts == 1
        first.kill()
    relay.release.set()
    # The relay never answered 250: it did not take the mail, and nothing says it went.
    assert relay.received == []
    mail.refresh_from_db()
    assert mail.status == SENDING
    assert message.deliveries.get().status == DeliveryStatus.PENDING

    with worker(log, **env) as second:
        assert wait_for(lambda: _mail(message).status == SENT), second.output()
        # A few more ticks of the scheduler's sweep: nothing goes out again.
        assert not wait_for(lambda: len(relay.received) > 1, seconds=3)
        assert second.stop() == 0, second.output()

    [received] = relay.received
    assert received["rcpt_tos"] == [OUTSIDE]
    sent = email.message_from_bytes(received["content"], policy=email.policy.default)
    assert sent["Message-ID"] == message.message_id
    mail.refresh_from_db()
    assert mail.attempts == 2 and mail.error == ""
    delivery = message.deliveries.get()
    assert delivery.status == DeliveryStatus.SENT and delivery.error == ""


def test_a_periodic_job_due_while_no_worker_ran_runs_once_when_workers_are_back(
    transactional_db, settings, tmp_path
) -> None:
    marks = tmp_path / "marks.txt"
    job = Periodic("test_mark", 24 * 60, "maillage.tasks.tests.jobs.mark")
    now = dt.datetime.now(dt.UTC)
    today = job.latest_due(now)
    # It last ran yesterday; today's run fell due while no worker was up.
    ScheduledRun.objects.create(
        job=job.name, due_at=today - dt.timedelta(days=1), status=WorkStatus.DONE
    )
    env = {"MAILLAGE_TEST_MARK_FILE": str(marks)}
    # Two workers come back at once, each with its scheduler: they race for the same run.
    with worker(tmp_path / "a.log", **env) as a, worker(tmp_path / "b.log", **env) as b:
        assert wait_for(
            lambda: ScheduledRun.objects.filter(
                job=job.name, due_at=today, status=WorkStatus.DONE
            ).exists()
        ), a.output() + b.output()
        assert not wait_for(lambda: len(marks.read_text().splitlines()) > 1, seconds=3)
    assert marks.read_text().splitlines() == [today.isoformat()]
    assert list(
        ScheduledRun.objects.filter(job=job.name)
        .order_by("due_at")
        .values_list("due_at", flat=True)
    ) == [today - dt.timedelta(days=1), today]
    run = ScheduledRun.objects.get(job=job.name, due_at=today)
    assert run.attempts == 1


@pytest.mark.django_db
def test_the_test_worker_settings_are_the_tests_own(settings) -> None:
    """The worker must run on the test database, never on var/'s."""
    from django.db import connection

    assert "test" in str(connection.settings_dict["NAME"])
