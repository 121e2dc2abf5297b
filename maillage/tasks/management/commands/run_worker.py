"""Run the background worker: the scheduler thread, and the backend's own worker loop.

The scheduler (``tasks.schedule.tick``) runs in a daemon thread every
``MAILLAGE_SCHEDULER_INTERVAL`` seconds: periodic jobs and the sweep that
enqueues again whatever is due or held by a dead worker. The main thread runs
the worker of the configured backend: django-tasks-db's ``db_worker`` on the
database, RQ's worker on Redis. Several of these may run at once: every row
is claimed before it is worked on, and every run is created once.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connections

from maillage.audit.context import audit_context
from maillage.audit.models import Channel
from maillage.tasks import schedule
from maillage.tasks.queries import backend_kind

logger = logging.getLogger(__name__)


def scheduler_loop(stop: threading.Event, interval: float) -> None:
    """Tick until told to stop; an error is logged and the next tick tries again."""
    with audit_context(Channel.TASK):
        while not stop.is_set():
            close_old_connections()
            try:
                schedule.tick()
            except Exception:
                logger.exception("scheduler tick failed")
            finally:
                connections.close_all()
            stop.wait(interval)


class Command(BaseCommand):
    help = "Run the background worker and the scheduler (one command; Ctrl-C stops both)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-scheduler", action="store_true", help="Run tasks only (another process ticks)."
        )
        parser.add_argument(
            "--batch", action="store_true", help="Tick once, run what is queued, then exit."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interval = float(settings.MAILLAGE_SCHEDULER_INTERVAL)
        if options["batch"]:
            with audit_context(Channel.TASK):
                schedule.tick()
            self._work(batch=True)
            return
        stop = threading.Event()
        if not options["no_scheduler"]:
            threading.Thread(
                target=scheduler_loop, args=(stop, interval), name="scheduler", daemon=True
            ).start()
        try:
            self._work(batch=False)
        finally:
            stop.set()

    def _work(self, *, batch: bool) -> None:
        backend = backend_kind()
        if backend == "database":
            call_command(
                "db_worker",
                queue_name="*",
                interval=1,
                batch=batch,
                reload=False,
                startup_delay=False,
                verbosity=0,
            )
        elif backend == "rq":
            # RQ must build its jobs with the class that calls a django-tasks Task.
            rq_options: dict[str, Any] = {
                "with_scheduler": True,
                "job_class": "django_tasks_rq.backend.Job",
                # No fork per job: a forked work horse would inherit this
                # process's pooled database connections (psycopg's pool, used
                # by the scheduler thread meanwhile) and share their sockets.
                "worker_class": "rq.worker.SimpleWorker",
            }
            if batch:
                rq_options["burst"] = True
            call_command("rqworker", "default", **rq_options)
        elif not batch:
            # The immediate backend runs each task in its caller: only the scheduler works here.
            threading.Event().wait()
