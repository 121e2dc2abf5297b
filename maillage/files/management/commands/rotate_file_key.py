from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from maillage.files.keys import KeysFromEnvironment, add_key_to_file


class Command(BaseCommand):
    help = (
        "Make a new file key current in the key file (demo and single-machine installs). "
        "Old keys stay, so old files still open; run reseal_files to move them to the new key."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            ring = add_key_to_file()
        except KeysFromEnvironment:
            raise CommandError(
                "Les clés viennent de l'environnement (MAILLAGE_FILE_KEYS) : ajoutez-y une "
                "nouvelle clé, désignez-la dans MAILLAGE_FILE_KEY_ID, redémarrez, puis lancez "
                "reseal_files."
            ) from None
        self.stdout.write(f"Nouvelle clé courante : {ring.current} ({len(ring.keys)} clés).")
