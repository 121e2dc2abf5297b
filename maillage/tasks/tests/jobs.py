"""Jobs and tasks for the tests: a periodic job whose effect can be counted, a task that fails."""

from __future__ import annotations

import datetime as dt
import os

from django_tasks import task


def mark(due_at: dt.datetime) -> None:
    """Append the due time to a file: each run leaves one line."""
    with open(os.environ["MAILLAGE_TEST_MARK_FILE"], "a", encoding="utf-8") as marks:
        marks.write(due_at.isoformat() + "\n")


def explode(due_at: dt.datetime) -> None:
    raise RuntimeError("the job broke")


@task()
def broken_task() -> None:
    raise RuntimeError("the task broke")
