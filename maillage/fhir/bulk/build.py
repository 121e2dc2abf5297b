"""Building an export: one claimed attempt writes every NDJSON file, then finishes the job.

The patients come from the policy (``maillage.policy.exports``), decided at
the time the job runs, with the requester's rights of that moment; each
resource is built by the mapper the API uses (so every line is validated by
its R4B model). Files are sealed as they fill (at most ``LINES_PER_FILE``
resources each); the rows of the files, the job's end and the per-patient
audit entries are written in one transaction, only while the claim is still
ours. A job cancelled meanwhile (its row deleted) or taken over by another
attempt leaves nothing behind: this attempt removes the files it wrote.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.fhir.bulk import storage
from maillage.fhir.bulk.models import ExportFile, ExportJob
from maillage.fhir.interactions.document_reference import document_context
from maillage.fhir.interactions.observation import reading_context
from maillage.fhir.mapping.document_reference import document_reference, documents_files
from maillage.fhir.mapping.observation import device, media, observation
from maillage.fhir.mapping.patient import patient_resource
from maillage.fhir.result import Json
from maillage.measurements.models import Device, Media, Observation
from maillage.policy.exports import (
    PatientExport,
    export_patients,
    exported,
    patients_holding_readings,
)
from maillage.tasks import claims

logger = logging.getLogger(__name__)

# The resource types an export holds, in the order of the manifest.
EXPORTED_TYPES = ("Patient", "DocumentReference", "Observation", "Media", "Device")
# The types read through a patient's readings (``PatientExport.readings``).
READING_TYPES = frozenset({"Observation", "Media", "Device"})
LINES_PER_FILE = 10_000
PROGRESS_EVERY = 100


def expiry() -> dt.timedelta:
    return dt.timedelta(hours=settings.MAILLAGE_EXPORT_HOURS)


class Writer:
    """NDJSON lines per type, sealed into a file each time one fills up."""

    def __init__(self, job: ExportJob, types: tuple[str, ...]) -> None:
        self.job = job
        self.lines: dict[str, list[bytes]] = {t: [] for t in types}
        self.files: list[ExportFile] = []
        # The devices the exported readings name, written once at the end (no patient data).
        self.devices: dict[int, Device] = {}
        self._holders: frozenset[int] | None = None

    def holds_readings(self, patient_id: int) -> bool:
        """Whether the patient has any reading or medium at all: one query each per job, so
        that the many patients without any cost no decision and no query."""
        if self._holders is None:
            self._holders = patients_holding_readings()
        return patient_id in self._holders

    def wants(self, resource_type: str) -> bool:
        return resource_type in self.lines

    def add(self, resource: Json) -> None:
        resource_type = resource["resourceType"]
        lines = self.lines[resource_type]
        lines.append(json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode())
        if len(lines) >= LINES_PER_FILE:
            self._flush(resource_type)

    def _flush(self, resource_type: str) -> None:
        lines = self.lines[resource_type]
        if lines:
            data = b"\n".join(lines) + b"\n"
            self.files.append(storage.write(self.job, resource_type, data, len(lines)))
            lines.clear()

    def close(self) -> list[ExportFile]:
        for resource_type in self.lines:
            self._flush(resource_type)
        return self.files


def types_of(job: ExportJob) -> tuple[str, ...]:
    asked = set(job.types)
    return tuple(t for t in EXPORTED_TYPES if not asked or t in asked)


def changed_since(resource: Json, since: dt.datetime | None) -> bool:
    """Whether a resource's version is newer than ``since`` (its ``meta.lastUpdated``).

    The mappers say when each resource last changed (a document replaced or
    withdrawn is a new version of it), as ``_lastUpdated`` searches read it.
    """
    if since is None:
        return True
    return dt.datetime.fromisoformat(resource["meta"]["lastUpdated"]) > since


def _documents(job: ExportJob, item: PatientExport) -> list[Json]:
    if item.record is None:
        return []
    documents = item.documents()
    if not documents:
        return []
    files = documents_files(documents)
    context = document_context(job.base_url, item.record, documents)
    references = [document_reference(d, files[d.pk], context) for d in documents]
    return [r for r in references if changed_since(r, job.since)]


def _readings(job: ExportJob, writer: Writer, item: PatientExport) -> dict[str, list[Json]]:
    """Her readings and media the requester may read (every status: the export is the
    record's history), those changed since ``_since``; the devices they name are noted."""
    if not writer.holds_readings(item.patient.pk):
        return {}
    opened = item.readings(job.requester)
    if opened is None:
        return {}
    found: dict[str, list[Json]] = {}
    rows: list[Observation | Media] = []
    if writer.wants("Observation") or writer.wants("Device"):
        readings = list(opened.observations().select_related("patient").order_by("pk"))
        rows += readings
    if writer.wants("Media") or writer.wants("Device"):
        items = list(opened.media().select_related("patient").order_by("pk"))
        rows += items
    if not rows:
        return {}
    ctx = reading_context(job.base_url, rows)
    for row in rows:
        if isinstance(row, Observation) and writer.wants("Observation"):
            found.setdefault("Observation", []).append(observation(row, ctx))
        elif isinstance(row, Media) and writer.wants("Media"):
            found.setdefault("Media", []).append(media(row, ctx))
        if row.device is not None:
            writer.devices.setdefault(row.device.pk, row.device)
    return {
        kind: kept
        for kind, resources in found.items()
        if (kept := [r for r in resources if changed_since(r, job.since)])
    }


def export_one(job: ExportJob, writer: Writer, item: PatientExport) -> dict[str, Any]:
    """Write what the export holds of one patient; what left, for her audit entry."""
    counts: dict[str, int] = {}
    patient = item.patient
    if writer.wants("Patient"):
        resource = patient_resource(patient)
        if changed_since(resource, job.since):
            writer.add(resource)
            counts["Patient"] = 1
    if writer.wants("DocumentReference"):
        references = _documents(job, item)
        for resource in references:
            writer.add(resource)
        if references:
            counts["DocumentReference"] = len(references)
    readings: dict[str, list[Json]] = {}
    if any(writer.wants(t) for t in READING_TYPES):
        readings = _readings(job, writer, item)
    for resource_type, resources in readings.items():
        for resource in resources:
            writer.add(resource)
        counts[resource_type] = len(resources)
    if not counts:
        return {}
    detail: dict[str, Any] = {"resources": counts}
    if "DocumentReference" in counts:
        detail["documents"] = [r["id"] for r in references]
    # What left of her readings is named as a document is.
    for resource_type, key in (("Observation", "observations"), ("Media", "media")):
        if resource_type in readings:
            detail[key] = [r["id"] for r in readings[resource_type]]
    return detail


def _devices(job: ExportJob, writer: Writer) -> None:
    """The devices the exported readings name (equipment, no patient data), once each."""
    if not writer.wants("Device"):
        return
    for item in sorted(writer.devices.values(), key=lambda d: d.pk):
        resource = device(item)
        if changed_since(resource, job.since):
            writer.add(resource)


def run(pk: int) -> str:
    """One attempt at one export job."""
    job = claims.claim(ExportJob, pk)
    if job is None:
        return "not claimed"
    started = timezone.now()
    claims.note(job, transaction_time=started, progress="")
    writer = Writer(job, types_of(job))
    items: list[tuple[PatientExport, Mapping[str, Any]]] = []
    try:
        for number, item in enumerate(export_patients(job.requester), start=1):
            detail = export_one(job, writer, item)
            if detail:
                items.append((item, detail))
            if number % PROGRESS_EVERY == 0:
                claims.note(job, progress=_("%(count)d patients read") % {"count": number})
        _devices(job, writer)
        files = writer.close()
    except Exception as error:
        logger.exception("export %s: attempt failed", job.uuid)
        storage.remove(writer.files)
        exported(job.requester, items, job=str(job.uuid), failure=type(error).__name__)
        return claims.fail(job, type(error).__name__, permanent=False)
    if not _finish(job, files, items):
        storage.remove(files)
        exported(job.requester, items, job=str(job.uuid), failure="cancelled")
        return "cancelled"
    return job.status


def _finish(
    job: ExportJob, files: list[ExportFile], items: list[tuple[PatientExport, Mapping[str, Any]]]
) -> bool:
    """Files, end and audit entries together, only while the claim is ours."""
    with transaction.atomic():
        still_ours = (
            ExportJob.objects.select_for_update().filter(pk=job.pk, attempt=job.attempt).exists()
        )
        if not still_ours:
            return False
        ExportFile.objects.bulk_create(files)
        claims.finish(job, expires_at=timezone.now() + expiry(), progress="")
        exported(job.requester, items, job=str(job.uuid))
    return True
