"""An export job and its files. The job is claimed like a mail (``maillage.tasks.claims``)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from maillage.tasks.models import Claimable


class ExportKind(models.TextChoices):
    SYSTEM = "system", _("every patient the requester may export")
    PATIENT = "patient", _("the patients the requester may export (Patient level)")


class ExportJob(Claimable):
    """One ``$export`` request: who asked, for what, and where it stands.

    ``status``, ``created_at``, ``finished_at`` and ``error`` come from
    ``Claimable``; ``expires_at`` is set when the files are ready, and the
    upkeep deletes the job and its files after it.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=ExportKind.choices)
    # Resource types asked for by ``_type``; empty means every type exported.
    types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    # The kick-off URL as the client sent it, and the API base it came to.
    request_url = models.TextField()
    base_url = models.CharField(max_length=500)
    # When the job started reading: the manifest's transactionTime.
    transaction_time = models.DateTimeField(null=True, blank=True)
    progress = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="export_due")]

    def __str__(self) -> str:
        return f"export {self.uuid}: {self.status}"


class ExportFile(models.Model):
    """One NDJSON file of a finished job: one resource type, sealed like a stored file."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="files")
    resource_type = models.CharField(max_length=40)
    # Below MAILLAGE_EXPORTS_DIR.
    path = models.CharField(max_length=300)
    count = models.PositiveIntegerField()
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    key_id = models.CharField(max_length=64)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.resource_type} ({self.count}) of {self.job_id}"
