"""The export files on disk, sealed like stored files (AES-256-GCM, file keys, id bound).

One directory per job under MAILLAGE_EXPORTS_DIR; a file is sealed with the
current file key and its own public id as associated data, and checked
(GCM tag, size and SHA-256) on every read. Callers check the requester
first (``maillage.fhir.interactions.bulk_export``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from django.conf import settings

from maillage.fhir.bulk.models import ExportFile, ExportJob
from maillage.files.keys import keyring
from maillage.files.storage import CorruptedFile
from maillage.lib.sealed import SealError, seal, unseal


def root() -> Path:
    return Path(settings.MAILLAGE_EXPORTS_DIR)


def job_directory(job_uuid: object) -> Path:
    return root() / str(job_uuid)


def write(job: ExportJob, resource_type: str, data: bytes, count: int) -> ExportFile:
    """Seal and write one file; the row is returned unsaved (the job saves its rows at the end)."""
    ring = keyring()
    exported = ExportFile(
        job=job,
        resource_type=resource_type,
        count=count,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        key_id=ring.current,
    )
    exported.path = f"{job.uuid}/{exported.uuid}.ndjson.sealed"
    path = root() / exported.path
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(seal(data, ring, exported.uuid.bytes))
    os.replace(temporary, path)
    return exported


def read(exported: ExportFile) -> bytes:
    """The NDJSON, after checking the seal and the checksum; else CorruptedFile."""
    try:
        blob = (root() / exported.path).read_bytes()
        data = unseal(blob, keyring(), exported.uuid.bytes)
    except (OSError, SealError):
        raise CorruptedFile(str(exported.uuid)) from None
    if len(data) != exported.size or hashlib.sha256(data).hexdigest() != exported.sha256:
        raise CorruptedFile(str(exported.uuid))
    return data


def remove(files: list[ExportFile]) -> None:
    for exported in files:
        (root() / exported.path).unlink(missing_ok=True)


def remove_job(job_uuid: object) -> None:
    """Every file of a job, whichever attempt wrote it."""
    shutil.rmtree(job_directory(job_uuid), ignore_errors=True)
