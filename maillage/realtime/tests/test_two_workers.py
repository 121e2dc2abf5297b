"""Beyond one process: a socket held on worker A gets the event of a request served by worker B.

Two uvicorn processes on the test database (PostgreSQL) and the Redis
channel layer, as CI provides them. Skipped, saying why, elsewhere.
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

import pytest
from django.conf import settings
from django.db import connection
from websockets.sync.client import connect

from maillage.messaging import actions
from maillage.messaging.tests.conftest import private_files  # noqa: F401 (autouse fixture)
from maillage.realtime.tests.conftest import redis_url, signed_in_session

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


def _free_port() -> int:
    with sockets.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database_url() -> str:
    db = connection.settings_dict
    auth = urllib.parse.quote(db["USER"] or "postgres")
    if db["PASSWORD"]:
        auth += ":" + urllib.parse.quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def _worker(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """One uvicorn process on the test database, the Redis layer and the test's keys."""
    env = {
        **os.environ,
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
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "maillage.asgi:application",
            "--host=127.0.0.1",
            f"--port={port}",
            "--ws=websockets-sansio",
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


def test_a_request_on_worker_b_reaches_the_socket_held_on_worker_a(personas) -> None:
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
    port_a, port_b = _free_port(), _free_port()
    with _worker(port_a) as worker_a, _worker(port_b) as worker_b:
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
