from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from maillage.audit.actions import witness_checkpoint


class Command(BaseCommand):
    help = (
        "Print a signed checkpoint of the audit chain's head (one JSON line) to hand to an "
        "outside witness; `verify_audit --witness FILE` checks the trail against it later. "
        "The trail is verified first: a broken trail is never signed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = witness_checkpoint()
        if checkpoint is None:
            raise CommandError(
                "La chaîne d'audit ne se vérifie pas (lancez verify_audit) : "
                "aucun point de contrôle n'est délivré."
            )
        self.stdout.write(checkpoint.to_json())
