from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from maillage.audit.actions import verify_chain


class Command(BaseCommand):
    help = "Recompute the audit hash chain and report the first broken link."

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if report.intact:
            self.stdout.write(f"Chaîne d'audit intacte : {report.entries} entrées vérifiées.")
            return
        raise CommandError(
            f"Chaîne d'audit rompue à l'entrée n° {report.first_broken_seq} "
            f"({report.entries} entrées lues) : une entrée a été modifiée, supprimée ou insérée."
        )
