"""manage.py import_fhir PATH… --as USERNAME: load FHIR transaction bundles (Synthea's)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from maillage.accounts.models import User
from maillage.fhir.importing import ImportReport, import_paths


def _counts(counts: Counter[str]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())) or "none"


class Command(BaseCommand):
    help = (
        "Load FHIR transaction bundles (files, or folders of .json files) through the API's "
        "own transaction code, acting as USERNAME: the access policy applies and every entry "
        "is audited. Entries the API cannot write (Encounter, Observation…) are skipped and "
        "counted by resource type; "
        "a patient already there is not created again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument(
            "--as", dest="username", required=True, help="the account the import acts as"
        )

    def handle(self, *args: Any, paths: list[Path], username: str, **options: Any) -> None:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        report = import_paths(user, paths)
        for file in report.files:
            if file.error:
                self.stderr.write(f"{file.path.name}: NOT imported (nothing kept): {file.error}")
                continue
            self.stdout.write(
                f"{file.path.name}: created {_counts(file.created)}; "
                f"already there {_counts(file.existing)}; "
                f"skipped (not writable here) {_counts(file.skipped)}"
            )
            for kind, elements in sorted(file.not_kept.items()):
                self.stdout.write(f"  {kind}: received, not kept: {', '.join(elements)}")
            for line in file.failed_entries:
                self.stderr.write(f"  failed, not imported: {line}")
        self.stdout.write(self._summary(report))
        if report.failed:
            raise CommandError(
                f"{len(report.failed)} of {len(report.files)} files not imported, or not whole."
            )

    @staticmethod
    def _summary(report: ImportReport) -> str:
        return (
            f"{len(report.files)} files. Created: {_counts(report.total('created'))}. "
            f"Already there: {_counts(report.total('existing'))}. "
            f"Skipped, by resource type: {_counts(report.total('skipped'))}."
        )
