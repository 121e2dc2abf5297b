"""publish: one gapless sequence per user, even under concurrent writers; nothing on rollback."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, transaction

from maillage.realtime import events
from maillage.realtime.models import UserEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_publishers_get_consecutive_numbers(personas) -> None:
    user = personas.treating_doctor.user
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def writer() -> None:
        try:
            start.wait()
            for _ in range(8):
                events.publish(
                    user.pk, events.MESSAGE_NEW, {"thread": str(uuid.uuid4()), "count": 1}
                )
        except BaseException as error:  # reported below, with the thread's failure
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    seqs = list(UserEvent.objects.filter(user=user).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 49))
    assert events.last_seq(user.pk) == 48


def test_a_rolled_back_write_leaves_no_event_and_no_gap(personas) -> None:
    user = personas.treating_doctor.user
    events.publish(user.pk, events.MESSAGE_NEW, {"thread": "a", "count": 1})
    with pytest.raises(RuntimeError), transaction.atomic():
        events.publish(user.pk, events.MESSAGE_NEW, {"thread": "b", "count": 1})
        raise RuntimeError("the message failed to be written")
    assert events.publish(user.pk, events.MESSAGE_NEW, {"thread": "c", "count": 1}) == 2
    assert list(UserEvent.objects.values_list("seq", "data__thread")) == [(1, "a"), (2, "c")]


def test_sequences_are_per_user(personas) -> None:
    doctor, nurse = personas.treating_doctor.user, personas.nurse.user
    assert events.publish(doctor.pk, events.MESSAGE_NEW, {"thread": "a", "count": 1}) == 1
    assert events.publish(nurse.pk, events.MESSAGE_NEW, {"thread": "a", "count": 1}) == 1
    assert events.publish(doctor.pk, events.MESSAGE_NEW, {"thread": "a", "count": 1}) == 2


def test_an_unknown_kind_is_refused(personas) -> None:
    with pytest.raises(ValueError):
        events.publish(personas.nurse.user.pk, "patient.read", {"patient": "x"})
    assert not UserEvent.objects.exists()


def test_the_command_prunes_what_is_older_than_the_keeping_time(personas, settings) -> None:
    import datetime as dt
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    user = personas.nurse.user
    for _ in range(3):
        events.publish(user.pk, events.MESSAGE_NEW, {"thread": "a", "count": 1})
    old = timezone.now() - dt.timedelta(hours=settings.MAILLAGE_REALTIME_KEEP_HOURS, minutes=1)
    UserEvent.objects.filter(seq__lte=2).update(created_at=old)
    out = StringIO()
    call_command("prune_user_events", stdout=out)
    assert "2 events pruned" in out.getvalue()
    assert list(UserEvent.objects.values_list("seq", flat=True)) == [3]
    # The numbering goes on: a pruned seq is never given out again.
    assert events.publish(user.pk, events.MESSAGE_NEW, {"thread": "a", "count": 1}) == 4
