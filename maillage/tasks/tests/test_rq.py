"""The same mail through RQ on Redis (database 1): the request enqueues, an RQ worker sends."""

from __future__ import annotations

import email
import email.policy

import pytest
import redis

from maillage.tasks.mail import SENT
from maillage.tasks.models import OutgoingMail
from maillage.tasks.tests.helpers import wait_for, worker
from maillage.tasks.tests.test_worker_crash import _send_outside

REDIS = "redis://127.0.0.1:6379/1"


def _redis_or_skip() -> redis.Redis:
    connection = redis.Redis.from_url(REDIS)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return connection


def test_a_mail_goes_through_rq_once(transactional_db, personas, relay, settings, tmp_path):
    connection = _redis_or_skip()
    for key in connection.scan_iter("rq:*"):  # our own database number only, never FLUSHALL
        connection.delete(key)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": REDIS}}
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "django_rq"]
    relay.hold_next = False

    message = _send_outside(personas)
    assert relay.received == []  # queued in Redis, not sent by the request

    env = {**relay.env, "MAILLAGE_TASKS_BACKEND": "rq", "REDIS_URL": REDIS}
    with worker(tmp_path / "rq.log", **env) as running:
        assert wait_for(
            lambda: OutgoingMail.objects.get(delivery__message=message).status == SENT
        ), running.output()
        assert not wait_for(lambda: len(relay.received) > 1, seconds=2)
    [received] = relay.received
    sent = email.message_from_bytes(received["content"], policy=email.policy.default)
    assert sent["Message-ID"] == message.message_id
