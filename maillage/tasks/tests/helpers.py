"""A worker process against the test database, and an SMTP relay that can hold a mail."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

MANAGE = Path(settings.BASE_DIR) / "manage.py"


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> bool:
    """Poll until the condition holds; False when it never did (the assertion says what)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


class Worker:
    """``manage.py run_worker`` in its own process, on the database the test uses."""

    def __init__(self, log: Path, **env: str) -> None:
        self.log = log
        environment = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
        environment.update(
            DJANGO_SETTINGS_MODULE="maillage.tasks.tests.worker_settings",
            MAILLAGE_TASKS_BACKEND="database",
            MAILLAGE_WORKER_DB_NAME=str(connection.settings_dict["NAME"]),
            MAILLAGE_SCHEDULER_INTERVAL="0.3",
            MAILLAGE_AUDIT_KEYS="",
            MAILLAGE_AUDIT_KEY_FILE=str(settings.MAILLAGE_AUDIT_KEY_FILE),
            MAILLAGE_AUDIT_CHECKPOINT_DIR=str(settings.MAILLAGE_AUDIT_CHECKPOINT_DIR),
            MAILLAGE_FILE_KEYS=settings.MAILLAGE_FILE_KEYS,
            MAILLAGE_FILE_KEY_FILE=str(settings.MAILLAGE_FILE_KEY_FILE),
            MAILLAGE_FILES_DIR=str(settings.MAILLAGE_FILES_DIR),
        )
        environment.update(env)
        self._output = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, str(MANAGE), "run_worker"],
            cwd=MANAGE.parent,
            env=environment,
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._output.close()
        return self.process.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def worker(log: Path, **env: str) -> Iterator[Worker]:
    running = Worker(log, **env)
    try:
        yield running
    finally:
        running.stop()


class HoldingRelay:
    """An aiosmtpd handler that holds the first mail in DATA until released.

    A client that disappears meanwhile gets no 250: aiosmtpd cancels the
    handler when the connection is lost, so the relay never took that mail,
    as a real relay drops an unfinished transaction.
    """

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.holding = threading.Event()
        self.release = threading.Event()
        self.hold_next = True

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.hold_next:
            self.hold_next = False
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        self.received.append(
            {"rcpt_tos": list(envelope.rcpt_tos), "content": envelope.original_content}
        )
        return "250 2.0.0 Queued"
