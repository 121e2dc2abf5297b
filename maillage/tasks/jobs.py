"""Periodic jobs of the platform. Each takes its due time and is idempotent."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from maillage.tasks.models import OutgoingMail, ScheduledRun, WorkStatus

# Finished work is kept this long for the administrators' page, then deleted.
KEEP_DAYS = 30


def prune_finished_work(due_at: dt.datetime) -> int:
    """Delete sent mail, finished runs and finished task results older than KEEP_DAYS."""
    limit = due_at - dt.timedelta(days=KEEP_DAYS)
    finished = [WorkStatus.DONE, WorkStatus.FAILED]
    count = OutgoingMail.objects.filter(
        status__in=finished, finished_at__lt=limit, delivery__isnull=True
    ).delete()[0]
    count += ScheduledRun.objects.filter(status__in=finished, finished_at__lt=limit).delete()[0]
    if "django_tasks_db" in settings.INSTALLED_APPS:
        from django_tasks_db.models import DBTaskResult

        count += DBTaskResult.objects.finished().filter(finished_at__lt=limit).delete()[0]
    return count
