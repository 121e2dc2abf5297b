"""Outgoing mail as the attacker of exactly-once would try it: duplicate tasks, races, a relay
that says no, a patient who changes her mind before the worker runs."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import uuid

import pytest
from django.core import mail as django_mail
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from maillage.accounts.notify import send_notice
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.messaging import actions
from maillage.messaging.models import DeliveryStatus
from maillage.messaging.tests.conftest import PDF
from maillage.records import actions as record_actions
from maillage.records.models import DocumentType
from maillage.tasks import schedule
from maillage.tasks.mail import SENDING, SENT
from maillage.tasks.models import MailKind, OutgoingMail, WorkStatus
from maillage.tasks.tasks import send_outgoing
from maillage.tasks.tests.conftest import DATABASE_BACKEND
from maillage.testing import factories as f

OUTSIDE = "anne.petit@medecin.mssante.fr"


def _send_outside(personas, **kw) -> actions.Message:
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
            **kw,
        ),
    )


def test_the_request_only_queues_and_the_worker_sends(
    transactional_db, personas, relay, settings
) -> None:
    relay.hold_next = False
    settings.TASKS = DATABASE_BACKEND
    message = _send_outside(personas)
    assert relay.received == []
    row = OutgoingMail.objects.get(delivery__message=message)
    assert row.status == WorkStatus.PENDING and row.enqueued_at is not None
    [queued] = DBTaskResult.objects.ready()
    assert queued.task_path == "maillage.tasks.tasks.send_outgoing"
    assert queued.args_kwargs == {"args": [row.pk], "kwargs": {}}

    call_command("run_worker", "--batch")

    [received] = relay.received
    sent = email.message_from_bytes(received["content"], policy=email.policy.default)
    assert sent["Message-ID"] == message.message_id
    row.refresh_from_db()
    assert row.status == SENT and row.attempts == 1
    assert message.deliveries.get().status == DeliveryStatus.SENT


@pytest.mark.django_db
def test_a_live_attempt_is_not_taken_over(
    personas, relay, django_capture_on_commit_callbacks
) -> None:
    """A worker is sending (fresh claim): a duplicate task and the sweep leave it alone."""
    with django_capture_on_commit_callbacks(execute=False):
        message = _send_outside(personas)
    row = OutgoingMail.objects.get(delivery__message=message)
    OutgoingMail.objects.filter(pk=row.pk).update(
        status=SENDING, attempt=uuid.uuid4(), claimed_at=timezone.now(), attempts=1
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert send_outgoing.call(row.pk) == "not claimed"
        assert schedule.sweep() == 0
    assert relay.received == []
    # Past the claim timeout, that worker is presumed dead: the mail goes, once.
    hour = dt.timedelta(hours=1)
    OutgoingMail.objects.filter(pk=row.pk).update(
        claimed_at=F("claimed_at") - hour, enqueued_at=F("enqueued_at") - hour
    )
    relay.hold_next = False
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule.sweep() == 1
        assert schedule.sweep() == 0
    assert len(relay.received) == 1


@pytest.mark.django_db
def test_a_presumed_dead_worker_coming_back_cannot_overwrite_the_outcome(
    personas, relay, django_capture_on_commit_callbacks
) -> None:
    from maillage.tasks import claims

    with django_capture_on_commit_callbacks(execute=False):
        message = _send_outside(personas)
    row = OutgoingMail.objects.get(delivery__message=message)
    old = claims.claim(OutgoingMail, row.pk)
    assert old is not None
    OutgoingMail.objects.filter(pk=row.pk).update(claimed_at=timezone.now() - dt.timedelta(hours=1))
    new = claims.claim(OutgoingMail, row.pk)
    assert new is not None and new.attempt != old.attempt
    assert claims.finish(new)
    # The old attempt wakes up and reports a failure: ignored, the row stays sent.
    claims.fail(old, "421 too late", permanent=True)
    row.refresh_from_db()
    assert row.status == SENT and row.error == "" and row.attempts == 2


@pytest.mark.django_db
def test_a_relay_that_refuses_for_good_fails_at_once_without_retry(
    personas, relay, django_capture_on_commit_callbacks
) -> None:
    relay.hold_next = False

    async def refuse(server, session, envelope) -> str:
        return "554 5.7.1 Rejected"

    relay.handle_DATA = refuse
    with django_capture_on_commit_callbacks(execute=True):
        message = _send_outside(personas)
    row = OutgoingMail.objects.get(delivery__message=message)
    assert row.status == WorkStatus.FAILED and row.attempts == 1
    assert row.error.startswith("554")
    delivery = message.deliveries.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.error.startswith("554")
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule.sweep() == 0


@pytest.mark.django_db
def test_the_worker_asks_the_policy_again_before_the_mail_leaves(
    personas, relay, django_capture_on_commit_callbacks
) -> None:
    """The patient refuses sharing after the send, before the worker runs: nothing leaves."""
    relay.hold_next = False
    document = record_actions.file_document(
        personas.treating_doctor.user,
        personas.patient,
        record_actions.NewDocument(DocumentType.LAB_RESULTS, "Bilan", dt.date(2026, 11, 2)),
        uploads=[record_actions.Upload("bilan.pdf", PDF)],
    )
    with django_capture_on_commit_callbacks(execute=False) as queued:
        message = _send_outside(personas, documents=[document.uuid])
    record_actions.set_sharing(personas.patient_user, personas.patient, granted=False)
    for callback in queued:
        callback()

    assert relay.received == []
    row = OutgoingMail.objects.get(delivery__message=message)
    assert row.status == WorkStatus.FAILED and row.attempts == 1
    assert message.deliveries.get().status == DeliveryStatus.FAILED
    assert AuditEntry.objects.filter(
        patient=personas.patient,
        action=Action.DOCUMENT_RECEIVE,
        outcome=Outcome.DENIED,
        detail__receiver=f"mail:{OUTSIDE}",
        detail__rule="sharing_refused",
    ).exists()


@pytest.mark.django_db
def test_a_notice_asked_twice_with_its_key_is_sent_once(
    personas, django_capture_on_commit_callbacks
) -> None:
    user = personas.treating_doctor.user
    user.email = "claire.morel@example.org"
    user.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_notice(user, "Maillage", ["Un message vous attend."], "/", key="k:1")
        assert send_notice(user, "Maillage", ["Un message vous attend."], "/", key="k:1")
    assert [m.to for m in django_mail.outbox] == [["claire.morel@example.org"]]
    row = OutgoingMail.objects.get(key="k:1")
    assert row.kind == MailKind.NOTICE and row.status == SENT
    assert django_mail.outbox[0].extra_headers["Message-ID"] == row.message_id
    with django_capture_on_commit_callbacks(execute=True):
        send_outgoing.enqueue(row.pk)
    assert len(django_mail.outbox) == 1


@pytest.mark.django_db
def test_a_notice_rolled_back_with_its_cause_is_never_sent(personas) -> None:
    from django.db import transaction

    user = personas.treating_doctor.user
    user.email = "claire.morel@example.org"
    user.save()
    with pytest.raises(RuntimeError), transaction.atomic():
        send_notice(user, "Maillage", ["Un message vous attend."], "/", key="k:2")
        raise RuntimeError
    assert not OutgoingMail.objects.filter(key="k:2").exists()
    assert django_mail.outbox == []


@pytest.mark.django_db
def test_sending_again_from_the_page_only_queues(
    personas, relay, settings, django_capture_on_commit_callbacks
) -> None:
    from maillage.front.tests.test_home import signed_in
    from maillage.messaging.tests.conftest import fr
    from maillage.testing.factories import page_text

    relay.hold_next = False

    async def refuse(server, session, envelope) -> str:
        return "554 5.7.1 Rejected"

    relay.handle_DATA = refuse
    with django_capture_on_commit_callbacks(execute=True):
        message = _send_outside(personas)
    assert message.deliveries.get().status == DeliveryStatus.FAILED
    del relay.handle_DATA  # the relay accepts again

    settings.TASKS = DATABASE_BACKEND
    client = signed_in(personas.treating_doctor.user)
    url = f"/messagerie/{message.thread.uuid}/messages/{message.uuid}/renvoyer/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    assert response.status_code == 200
    assert fr("The message is being sent again.") in page_text(response)
    assert relay.received == []  # the request queued it; the worker sends it
    row = OutgoingMail.objects.get(delivery__message=message)
    assert row.status == WorkStatus.PENDING and row.attempts == 0
    assert DBTaskResult.objects.ready().filter(args_kwargs__args=[row.pk]).exists()


@pytest.mark.django_db
def test_a_mail_whose_worker_dies_at_every_attempt_is_given_up(
    personas, relay, settings, django_capture_on_commit_callbacks
) -> None:
    """A mail that kills its worker each time must not kill workers forever."""
    settings.MAILLAGE_TASK_MAX_ATTEMPTS = 3
    with django_capture_on_commit_callbacks(execute=False):
        message = _send_outside(personas)
    long_ago = timezone.now() - dt.timedelta(hours=1)
    OutgoingMail.objects.filter(delivery__message=message).update(
        status=SENDING, attempt=uuid.uuid4(), claimed_at=long_ago, enqueued_at=long_ago, attempts=3
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule.sweep() == 0
    row = OutgoingMail.objects.get(delivery__message=message)
    assert row.status == WorkStatus.FAILED and row.attempts == 3
    assert row.error == "its worker stopped during every attempt"
    assert message.deliveries.get().status == DeliveryStatus.FAILED
    assert relay.received == []
