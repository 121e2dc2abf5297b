"""Regulation cases: the regulator's only way into a patient's data.

A regulator of unscheduled care reads a patient only through an open case
about that patient, opened with a reason and for a limited time, flagged in
the trail and the patient's access log, and reviewed afterwards like an
emergency opening. The unscheduled-care workflow (triage, orientation, the
mobile units) will grow on this case.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RegulationCase(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="regulation_cases"
    )
    regulator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="regulation_cases"
    )
    reason = models.TextField(_("reason for the request"))
    opened_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    review_outcome = models.CharField(max_length=20, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [
            models.Index(fields=["regulator", "expires_at"], name="regulation_open_cases"),
        ]

    def __str__(self) -> str:
        return f"case {self.uuid}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None and self.expires_at > timezone.now()
