"""Uploads from the pages, limited while they stream in rather than after.

``LimitedUploadHandler`` stands first in FILE_UPLOAD_HANDLERS, before
Django's TemporaryFileUploadHandler (which writes to disk). It passes each
chunk on while the file stays under MAILLAGE_MAX_UPLOAD_BYTES, the request's
files under MAILLAGE_MAX_REQUEST_UPLOAD_BYTES and their number under
MAILLAGE_MAX_UPLOAD_FILES; past any of them it stops passing the file on
(nothing more reaches the disk) and the form receives a ``RefusedFile`` that
says why. The other fields of the form arrive as usual, so the page comes
back with what the person typed and a French message, never a 500.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from maillage.files.storage import rejection_message, safe_name
from maillage.lib.filetypes import Rejection


class RefusedFile(UploadedFile):
    """What the form gets in place of a file refused while it streamed in."""

    def __init__(self, name: str, message: str, kept: int) -> None:
        # A size of 0 would make FileField say "empty" instead of our reason.
        super().__init__(io.BytesIO(b""), name=name, content_type="", size=max(kept, 1))
        self.message = message
        self.kept = kept


class LimitedUploadHandler(FileUploadHandler):
    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.files = 0
        self.total = 0
        self.kept = 0
        self.refusal: str | None = None

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.files += 1
        self.kept = 0
        self.refusal = None
        limit = settings.MAILLAGE_MAX_UPLOAD_FILES
        if self.files > limit:
            self.refusal = ngettext(
                "Too many files sent at once: at most %(n)d.",
                "Too many files sent at once: at most %(n)d.",
                limit,
            ) % {"n": limit}

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self.refusal is not None:
            return None
        if self.kept + len(raw_data) > settings.MAILLAGE_MAX_UPLOAD_BYTES:
            self.refusal = rejection_message(Rejection.TOO_LARGE)
            return None
        if self.total + len(raw_data) > settings.MAILLAGE_MAX_REQUEST_UPLOAD_BYTES:
            mb = settings.MAILLAGE_MAX_REQUEST_UPLOAD_BYTES // (1024 * 1024)
            self.refusal = _("The files sent together are larger than %(mb)d MB.") % {"mb": mb}
            return None
        self.kept += len(raw_data)
        self.total += len(raw_data)
        return raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.refusal is None:
            return None  # the next handler hands over the file it wrote
        return RefusedFile(self.file_name or "fichier", self.refusal, self.kept)


def refuse_streamed(files: Iterable[UploadedFile]) -> None:
    """A form's clean step: a ValidationError naming each file refused while streaming."""
    errors = [
        _("%(name)s: %(reason)s") % {"name": safe_name(f.name or ""), "reason": f.message}
        for f in files
        if isinstance(f, RefusedFile)
    ]
    if errors:
        raise forms.ValidationError(errors)
