from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StoredFile(models.Model):
    """A file kept sealed (AES-256-GCM) outside the database; see maillage.files.storage.

    Never changed once written: a new version of a document is a new file.
    The same file may be attached to a message and filed in a record.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    original_name = models.CharField(_("file name"), max_length=200)
    mime = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    # SHA-256 of the plaintext, checked on every read.
    sha256 = models.CharField(max_length=64)
    # Which key sealed it, so that a rotation knows what to reseal.
    key_id = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("stored file")
        verbose_name_plural = _("stored files")

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.mime.startswith("image/")
