"""Storing and reading files, sealed at rest. Callers pass their own access gate first.

Files live on the local disk under MAILLAGE_FILES_DIR (one file per blob,
named by its public id); an S3-compatible store can replace ``_write`` and
``_read`` without changing anything else.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import os
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome
from maillage.files.antivirus import ScanUnavailable, scan
from maillage.files.keys import keyring
from maillage.files.models import StoredFile
from maillage.lib.filetypes import FileType, RejectedFile, Rejection, extension_of, sniff
from maillage.lib.sealed import SealError, seal, unseal

if TYPE_CHECKING:
    from maillage.accounts.models import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: its name (the sender's word) and its bytes."""

    name: str
    data: bytes


class RejectedUpload(ValueError):
    """An upload refused before anything was stored; ``message`` is for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CorruptedFile(Exception):
    """A stored file no longer matches what was written: it is not served."""


_UNSAFE = re.compile(r"[^\w.\- ()]+")


def safe_name(name: str) -> str:
    """A file name fit for a download header: no path, no control characters."""
    base = os.path.basename(name.replace("\\", "/")).strip()
    base = unicodedata.normalize("NFC", base)
    cleaned = _UNSAFE.sub("_", base).strip("._ ") or "fichier"
    return cleaned[-150:]


def stored_name(name: str, kind: FileType) -> str:
    """The name a file is kept and served under: the sender's, with its type's extension."""
    base = safe_name(name)
    extension = extension_of(base)
    stem = base[: -len(extension) - 1] if extension else base
    return f"{stem.rstrip('._ ') or 'fichier'}.{kind.extension}"


def rejection_message(reason: Rejection) -> str:
    limit_mb = settings.MAILLAGE_MAX_UPLOAD_BYTES // (1024 * 1024)
    return {
        Rejection.EMPTY: _("The file is empty."),
        Rejection.TOO_LARGE: ngettext(
            "The file is larger than %(mb)d MB.", "The file is larger than %(mb)d MB.", limit_mb
        )
        % {"mb": limit_mb},
        Rejection.EXECUTABLE: _(
            "This file is a program or an archive: it cannot be stored in a health record."
        ),
        Rejection.UNKNOWN_TYPE: _(
            "This kind of file is not accepted. Send a PDF, an image (PNG, JPEG, WebP), "
            "a sound (WAV, MP3, Ogg, FLAC), a video clip (MP4, WebM), an ECG (PDF, HL7 aECG, "
            "DICOM) or plain text."
        ),
        Rejection.ACTIVE_CONTENT: _(
            "This file holds a web page, a script or an action that would run when opened: "
            "it cannot be stored in a health record."
        ),
        Rejection.EXTENSION_MISMATCH: _(
            "The name of the file does not match what it contains: check that it is the right "
            "file, or rename it with the right extension."
        ),
        Rejection.INVALID_AECG: _(
            "This XML file is not an HL7 aECG electrocardiogram (or it declares a DTD or "
            "entities, which are refused)."
        ),
        Rejection.INVALID_TEXT: _("This text file is not valid UTF-8 text."),
    }[reason]


def _path(file_uuid: str) -> Path:
    root = Path(settings.MAILLAGE_FILES_DIR)
    return root / file_uuid[:2] / f"{file_uuid}.sealed"


def _write(file_uuid: str, blob: bytes) -> None:
    path = _path(file_uuid)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(blob)
    os.replace(temporary, path)


def _read(file_uuid: str) -> bytes:
    try:
        return _path(file_uuid).read_bytes()
    except FileNotFoundError:
        raise CorruptedFile(file_uuid) from None


def check(data: bytes, name: str | None = None) -> FileType:
    """The type of an acceptable file, or RejectedUpload saying why it is refused.

    The one decision on a file, whatever path it came by (pages, FHIR, mail):
    allowed type sniffed from the content, no active content, the name's
    extension agreeing with the content, and the antivirus when configured.
    """
    try:
        kind = sniff(data, max_bytes=settings.MAILLAGE_MAX_UPLOAD_BYTES, name=name)
    except RejectedFile as error:
        raise RejectedUpload(rejection_message(error.reason)) from None
    if settings.MAILLAGE_CLAMD:
        _scan(data)
    return kind


def _scan(data: bytes) -> None:
    try:
        found = scan(data, settings.MAILLAGE_CLAMD)
    except ScanUnavailable as error:
        # Fail closed: an unchecked file is not stored.
        logger.error("antivirus unavailable, file refused: %s", error)
        raise RejectedUpload(
            _("The antivirus could not check this file: it was not stored. Try again later.")
        ) from None
    if found is not None:
        logger.warning("antivirus found %s in an upload, file refused", found)
        raise RejectedUpload(
            _("The antivirus found a threat in this file (%(name)s): it was not stored.")
            % {"name": found}
        )


def store(data: bytes, name: str, *, by: User | None) -> StoredFile:
    """Check, seal and keep a file; RejectedUpload says why one is refused."""
    kind = check(data, name)
    ring = keyring()
    stored = StoredFile(
        original_name=stored_name(name, kind),
        mime=kind.mime,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        key_id=ring.current,
        created_by=by,
    )
    _write(str(stored.uuid), seal(data, ring, stored.uuid.bytes))
    written = _new_blobs.get()
    if written is not None:
        written.append(str(stored.uuid))
    stored.save()
    return stored


# The files stored inside ``removed_if_undone``.
_new_blobs: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "maillage_new_blobs", default=None
)


@contextmanager
def removed_if_undone() -> Iterator[None]:
    """Files stored in the block are deleted from disk if it fails.

    For a block that runs in a transaction rolled back on failure (a FHIR
    transaction): their rows are gone, and a sealed copy of health data no
    row points at must not stay on disk. Each file was new (a fresh id), so
    nothing else refers to it.
    """
    written: list[str] = []
    token = _new_blobs.set(written)
    try:
        yield
    except BaseException:
        _new_blobs.reset(token)
        for file_uuid in written:
            if not StoredFile.objects.filter(uuid=file_uuid).exists():
                _path(file_uuid).unlink(missing_ok=True)
        raise
    _new_blobs.reset(token)


def read(stored: StoredFile) -> bytes:
    """The plaintext, after checking the seal and the checksum; else CorruptedFile."""
    try:
        data = unseal(_read(str(stored.uuid)), keyring(), stored.uuid.bytes)
    except (SealError, CorruptedFile):
        _report(stored, "seal")
        raise CorruptedFile(str(stored.uuid)) from None
    if len(data) != stored.size or hashlib.sha256(data).hexdigest() != stored.sha256:
        _report(stored, "checksum")
        raise CorruptedFile(str(stored.uuid))
    return data


def reseal(stored: StoredFile) -> bool:
    """Seal a file again under the current key; False when it already is."""
    ring = keyring()
    if stored.key_id == ring.current:
        return False
    data = read(stored)
    _write(str(stored.uuid), seal(data, ring, stored.uuid.bytes))
    stored.key_id = ring.current
    stored.save(update_fields=["key_id"])
    return True


def _report(stored: StoredFile, what: str) -> None:
    record(
        None,
        Event(
            action=Action.FILE_INTEGRITY_FAILED,
            outcome=Outcome.DENIED,
            detail={"file": str(stored.uuid), "check": what},
        ),
    )
