from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from maillage.audit.keys import KeysFromEnvironment, add_key_to_file


class Command(BaseCommand):
    help = (
        "Make a new audit key current in the key file (demo and single-machine installs). "
        "Old keys stay, so entries signed under them still verify."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            ring = add_key_to_file()
        except KeysFromEnvironment:
            raise CommandError(
                "Les clés d'audit viennent de l'environnement (MAILLAGE_AUDIT_KEYS) : "
                "ajoutez-y une nouvelle clé, désignez-la dans MAILLAGE_AUDIT_KEY_ID et "
                "redémarrez ; gardez les anciennes pour vérifier les entrées passées."
            ) from None
        self.stdout.write(
            f"Nouvelle clé d'audit courante : {ring.current} ({len(ring.keys)} clés)."
        )
