"""Loading FHIR transaction bundles from files (``manage.py import_fhir``).

The bundle goes through the same code as a Bundle posted to the base
(``interactions.bundle``), acting as a named user: every entry is decided by
the policy and audited as if that user had sent it. What differs from a POST is
reported, never silent:

- an entry of a type the API has no route for (Synthea's Encounter,
  Observation, Claim…) is skipped and counted by resource type;
- what a created resource did not keep (the API's not_kept warnings) is
  listed by element;
- a Patient already there (an identity with the same matricule or strict
  traits that the user may be shown, through the duplicate review of the
  gate) is not created again: its urn points at the existing one, so that a
  second run creates nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse

from maillage.fhir.auth import Caller
from maillage.fhir.interactions.bundle import (
    Entry,
    Run,
    TransactionFailed,
    process,
    read_bundle,
)
from maillage.fhir.mapping.patient_input import identity_from_fhir, patient_from_json
from maillage.fhir.outcome import FhirError
from maillage.fhir.router import FhirRequest, Router
from maillage.fhir.routes import ROUTES
from maillage.fhir.validation import load_json
from maillage.patients.actions import find_duplicates
from maillage.policy import gate as access

if TYPE_CHECKING:
    from maillage.accounts.models import User


@dataclass
class FileReport:
    path: Path
    created: Counter[str] = field(default_factory=Counter)
    existing: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    # FHIRPaths of elements received and not kept, per resource type (warnings).
    not_kept: dict[str, list[str]] = field(default_factory=dict)
    # A batch's entries that failed (the others were kept).
    failed_entries: list[str] = field(default_factory=list)
    # Why the file was not imported (nothing of it was kept), else "".
    error: str = ""


@dataclass
class ImportReport:
    files: list[FileReport] = field(default_factory=list)

    def total(self, kind: str) -> Counter[str]:
        counts: Counter[str] = Counter()
        for report in self.files:
            counts.update(getattr(report, kind))
        return counts

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.error or f.failed_entries]


def bundle_files(paths: list[Path]) -> list[Path]:
    """The files named, a folder standing for the .json files in it (sorted)."""
    found: list[Path] = []
    for path in paths:
        found += sorted(path.glob("*.json")) if path.is_dir() else [path]
    return found


def existing_patient(user: User, entry: Entry) -> str:
    """Patient/id of the identity a Patient entry describes, when already there and shown.

    Only what the duplicate review of the gate shows the user (audited): an
    identity the user may not see is not found, and the create then
    answers as it would to the API (a duplicate, 409).
    """
    if entry.method != "POST" or entry.resource_type != "Patient" or entry.resource is None:
        return ""
    try:
        received = identity_from_fhir(patient_from_json(entry.resource))
    except FhirError:
        return ""  # the create itself answers the problems
    evidence = received.identity.evidence()
    candidates, _same_matricule = find_duplicates(evidence)
    if not candidates:
        return ""
    shown = access.review_duplicates(user, candidates, evidence)
    return f"Patient/{shown[0].uuid}" if len(shown) == 1 else ""


def _base_url() -> str:
    public = settings.MAILLAGE_PUBLIC_URL.rstrip("/")
    return f"{public}{reverse('fhir:base').rstrip('/')}"


def import_file(user: User, path: Path) -> FileReport:
    report = FileReport(path)
    try:
        data = load_json(path.read_bytes())
        bundle = read_bundle(data, _base_url())
        run = Run(
            Router(ROUTES, lambda _request: Caller(user)),
            Caller(user),
            FhirRequest("POST", "", _base_url()),
            import_mode=True,
            existing=existing_patient,
        )
        outcome = process(bundle, run)
    except OSError as error:
        report.error = f"cannot read the file: {error.strerror}"
        return report
    except TransactionFailed as failed:
        report.error = "; ".join(_diagnostics(failed.result.body))
        return report
    except FhirError as error:
        report.error = "; ".join(issue.diagnostics for issue in error.issues)
        return report
    report.created, report.existing, report.skipped, report.not_kept = (
        outcome.created,
        outcome.existing,
        outcome.skipped,
        outcome.not_kept,
    )
    report.failed_entries = outcome.failed
    return report


def _diagnostics(outcome: dict[str, object]) -> list[str]:
    issues = outcome.get("issue", [])
    return [
        str(issue.get("diagnostics", ""))
        for issue in (issues if isinstance(issues, list) else [])
        if isinstance(issue, dict)
    ]


def import_paths(user: User, paths: list[Path]) -> ImportReport:
    return ImportReport([import_file(user, path) for path in bundle_files(paths)])
