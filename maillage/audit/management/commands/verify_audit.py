from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from maillage.audit.actions import ChainReport, Problem, verify_chain

_WHY = {
    Problem.LINK: "son sceau (HMAC) ou son lien ne tient pas : entrée modifiée, supprimée, "
    "insérée ou chaîne recalculée",
    Problem.HEAD: "la tête de chaîne est falsifiée ou ne désigne pas la dernière entrée : "
    "rien ne garantit la suite",
    Problem.CHECKPOINT: "un point de contrôle hors base attend une autre empreinte : "
    "chaîne réécrite",
    Problem.SHORT: "un point de contrôle hors base atteint une entrée que la base n'a plus : "
    "entrées supprimées à la fin",
    Problem.WITNESS: "le point de contrôle du témoin attend une autre empreinte : chaîne réécrite",
    Problem.WITNESS_SHORT: "le point de contrôle du témoin atteint une entrée que la base "
    "n'a plus : entrées supprimées à la fin",
    Problem.PENDING: "une entrée en attente de chaînage n'a pas été écrite par l'application "
    "(sceau invalide) : entrée insérée ou modifiée",
}


def _failure(report: ChainReport) -> str:
    if report.first_bad_seq is not None and report.problem is not None:
        return (
            f"Chaîne d'audit rompue à l'entrée n° {report.first_bad_seq} "
            f"({report.entries} entrées lues) : {_WHY[report.problem]}."
        )
    bad = report.bad_lines[0]
    return (
        f"Point de contrôle invalide ({bad.path}, ligne {bad.number}) : ligne illisible "
        "ou signée par une clé inconnue ; le fichier a été altéré ou la clé a été perdue."
    )


class Command(BaseCommand):
    help = (
        "Check the audit trail: every link's HMAC, the signed head, the checkpoints kept "
        "outside the database and, with --witness, a checkpoint handed to an outside witness. "
        "Names the first bad entry and exits non-zero."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--witness",
            type=Path,
            help="a file of checkpoints printed by export_audit_checkpoint",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        witness: Path | None = options["witness"]
        if witness is not None and not witness.is_file():
            raise CommandError(f"Fichier témoin introuvable : {witness}.")
        report = verify_chain(witness)
        if not report.intact:
            raise CommandError(_failure(report))
        self.stdout.write(
            f"Chaîne d'audit intacte : {report.entries} entrées vérifiées, "
            f"{report.checkpoints} points de contrôle hors base concordants"
            + (", fichier témoin concordant." if witness is not None else ".")
        )
