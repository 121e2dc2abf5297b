"""Beyond one process: a socket held on worker A gets the event of a request served by worker B,
then the event of a task run by the background worker, in order.

Two uvicorn processes and one task worker (`manage.py run_worker`, the
database queue) on the test database (PostgreSQL) and the Redis channel
layer, as CI provides them. Skipped, saying why, elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import socket as sockets
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from websockets.sync.client import connect

from maillage.messaging import actions
from maillage.messaging.tests.conftest import private_files  # noqa: F401 (autouse fixture)
from maillage.realtime.tests.conftest import redis_url, signed_in_session
from maillage.testing.ports import free_port

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[3]


def _why_not() -> str | None:
    if connection.vendor != "postgresql":
        return "needs DATABASE_URL on PostgreSQL: SQLite serves one machine's processes only"
    url = redis_url()
    if url is None:
        return "needs REDIS_URL: the in-memory channel layer does not cross processes"
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        return f"Redis at {url} is unreachable: {error}"
    return None


def _database_url() -> str:
    db = connection.settings_dict
    auth = urllib.parse.quote(db["USER"] or "postgres")
    if db["PASSWORD"]:
        auth += ":" + urllib.parse.quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _environment() -> dict[str, str]:
    """What every process of the test shares: the database, Redis, the keys, the task queue."""
    # Under pytest tasks run in their caller; these processes use the real queue.
    inherited = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    return {
        **inherited,
        "MAILLAGE_TASKS_BACKEND": "database",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": str(redis_url()),
        "MAILLAGE_SECRET_KEY": settings.SECRET_KEY,
        "MAILLAGE_AUDIT_KEYS": "",
        "MAILLAGE_AUDIT_KEY_FILE": settings.MAILLAGE_AUDIT_KEY_FILE,
        "MAILLAGE_AUDIT_CHECKPOINT_DIR": settings.MAILLAGE_AUDIT_CHECKPOINT_DIR,
        "MAILLAGE_FILES_DIR": settings.MAILLAGE_FILES_DIR,
        "MAILLAGE_FILE_KEY_FILE": settings.MAILLAGE_FILE_KEY_FILE,
        "MAILLAGE_REALTIME_HEARTBEAT_SECONDS": "1",
    }


@contextmanager
def _task_worker() -> Iterator[subprocess.Popen[bytes]]:
    """The background worker (database queue and scheduler), as `make run` starts it."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker"], cwd=ROOT, env=_environment()
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def _worker(port: int, interface: str = "asgi") -> Iterator[subprocess.Popen[bytes]]:
    """One uvicorn process on the test database, the Redis layer and the test's keys.

    ``wsgi``: the same code through ``maillage.wsgi``, HTTP only, as
    docs/deploy.md serves the pages and the API beside the sockets' ASGI workers.
    """
    env = _environment()
    served = (
        ["maillage.wsgi:application", "--interface=wsgi"]
        if interface == "wsgi"
        else ["maillage.asgi:application", "--ws=websockets-sansio"]
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            *served,
            "--host=127.0.0.1",
            f"--port={port}",
            "--lifespan=off",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with sockets.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"uvicorn on {port} did not start") from None
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _reply_over_http(port: int, session: str, thread_uuid: str, body: str) -> int:
    """The nurse's browser, reduced to urllib: open the thread, post the reply form."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    cookie = f"{settings.SESSION_COOKIE_NAME}={session}"
    page = opener.open(
        # Only http://127.0.0.1 URLs built here.
        urllib.request.Request(f"{base}/messagerie/{thread_uuid}/", headers={"Cookie": cookie}),  # noqa: S310
        timeout=20,
    )
    html = page.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token, "no CSRF token on the thread page"
    csrf_cookie = next(c.value for c in jar if c.name == settings.CSRF_COOKIE_NAME)
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), "body": body})
    response = opener.open(
        urllib.request.Request(  # noqa: S310
            f"{base}/messagerie/{thread_uuid}/repondre/",
            data=form.encode(),
            headers={
                "Cookie": f"{cookie}; {settings.CSRF_COOKIE_NAME}={csrf_cookie}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": base,
            },
        ),
        timeout=20,
    )
    return int(response.status)


@pytest.mark.parametrize("interface_b", ["asgi", "wsgi"])
def test_a_request_on_worker_b_reaches_the_socket_held_on_worker_a(personas, interface_b) -> None:
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    first = actions.send_message(
        personas.nurse.user,
        actions.Draft(
            subject="Pansement de Mme Girard",
            body="Plaie du talon à revoir.",
            professionals=[personas.treating_doctor],
            patient_uuid=personas.patient.uuid,
        ),
    )
    doctor_session = signed_in_session(personas.treating_doctor.user)
    nurse_session = signed_in_session(personas.nurse.user)
    port_a, port_b = free_port(), free_port()
    with _worker(port_a) as worker_a, _worker(port_b, interface_b) as worker_b:
        assert worker_a.pid != worker_b.pid
        with connect(
            f"ws://127.0.0.1:{port_a}/ws/",
            additional_headers={
                "Cookie": f"{settings.SESSION_COOKIE_NAME}={doctor_session}",
                "Origin": f"http://127.0.0.1:{port_a}",
            },
            open_timeout=20,
        ) as ws:
            ws.send(json.dumps({"type": "hello", "seq": 0, "data": {"last_seq": 1}}))
            welcome = json.loads(ws.recv(timeout=20))
            assert welcome["type"] == "welcome" and welcome["data"]["last_seq"] == 1

            assert (
                _reply_over_http(port_b, nurse_session, str(first.thread.uuid), "Et la pommade ?")
                == 200
            )

            deadline = time.monotonic() + 20
            while True:
                frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
                if frame["type"] == "ping":
                    ws.send(json.dumps({"type": "pong", "seq": 0, "data": {}}))
                    continue
                break
    assert frame["type"] == "message.new"
    assert frame["seq"] == 2
    assert frame["data"]["thread"] == str(first.thread.uuid)
    assert frame["data"]["row"]["subject"] == "Pansement de Mme Girard"


def _frames(ws: Any, count: int, within: float) -> list[dict[str, Any]]:
    """The next ``count`` event frames, answering pings on the way."""
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + within
    while len(found) < count:
        frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if frame["type"] == "ping":
            ws.send(json.dumps({"type": "pong", "seq": 0, "data": {}}))
            continue
        found.append(frame)
    return found


def test_a_request_on_b_then_a_task_in_the_worker_reach_the_socket_on_a_in_order(
    personas,
) -> None:
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    from maillage.realtime.models import EventStream

    outside = "secretariat@ch-vierzon.mssante.fr"
    first = actions.send_message(
        personas.nurse.user,
        actions.Draft(
            subject="Pansement de Mme Girard",
            body="Plaie du talon à revoir.",
            professionals=[personas.treating_doctor],
            addresses=[outside],
            patient_uuid=personas.patient.uuid,
        ),
    )
    doctor = personas.treating_doctor.user
    seen = EventStream.objects.filter(user=doctor).values_list("last_seq", flat=True).first() or 0
    doctor_session = signed_in_session(doctor)
    nurse_session = signed_in_session(personas.nurse.user)
    port_a, port_b = free_port(), free_port()
    with (
        _worker(port_a),
        _worker(port_b),
        _task_worker(),
        connect(
            f"ws://127.0.0.1:{port_a}/ws/",
            additional_headers={
                "Cookie": f"{settings.SESSION_COOKIE_NAME}={doctor_session}",
                "Origin": f"http://127.0.0.1:{port_a}",
            },
            open_timeout=20,
        ) as ws,
    ):
        ws.send(json.dumps({"type": "hello", "seq": 0, "data": {"last_seq": seen}}))
        welcome = json.loads(ws.recv(timeout=20))
        assert welcome["type"] == "welcome" and welcome["data"]["last_seq"] == seen

        # The request, on worker B: the nurse answers, to the doctor and outside.
        reply = _reply_over_http(port_b, nurse_session, str(first.thread.uuid), "Et après ?")
        assert reply == 200
        # Then the task, in the worker: the mail to the outside address leaves.
        frames = _frames(ws, 2, within=60)

    assert [f["type"] for f in frames] == ["message.new", "delivery.status"]
    assert [f["seq"] for f in frames] == [seen + 1, seen + 2]
    assert all(f["data"]["thread"] == str(first.thread.uuid) for f in frames)
    assert frames[1]["data"]["status"] == "sent"
