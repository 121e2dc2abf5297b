from __future__ import annotations

from django.conf import settings
from django.db import models


class EventStream(models.Model):
    """One row per user: the last sequence number given out and the last one seen.

    Incrementing ``last_seq`` with an UPDATE locks the row until the commit
    (PostgreSQL; SQLite's immediate transactions serialise writers), so two
    concurrent publishers get consecutive numbers and a rolled-back one
    gives its number back: no gap, no duplicate.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="event_stream",
    )
    last_seq = models.PositiveBigIntegerField(default=0)
    # The bell counts the events after this one.
    seen_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.last_seq}"


class UserEvent(models.Model):
    """An event for one user, kept a while so that a reconnecting client can resume."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=40)
    # Identifiers and counts only, never health data (see events.KINDS).
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["user", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["user", "seq"], name="realtime_event_user_seq")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}#{self.seq} {self.kind}"
