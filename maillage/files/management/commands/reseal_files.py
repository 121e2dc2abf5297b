from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from maillage.files.keys import keyring
from maillage.files.models import StoredFile
from maillage.files.storage import CorruptedFile, reseal


class Command(BaseCommand):
    help = "Seal again, under the current key, every file sealed under an older one."

    def handle(self, *args: Any, **options: Any) -> None:
        current = keyring().current
        moved, damaged = 0, []
        for stored in StoredFile.objects.exclude(key_id=current).iterator():
            try:
                moved += reseal(stored)
            except CorruptedFile:
                damaged.append(str(stored.uuid))
        self.stdout.write(f"{moved} fichier(s) rescellé(s) sous la clé {current}.")
        if damaged:
            raise CommandError(f"Fichiers altérés, laissés en l'état : {', '.join(damaged)}")
