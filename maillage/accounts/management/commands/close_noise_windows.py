from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from maillage.accounts.noise import close_windows


class Command(BaseCommand):
    help = (
        "Write the summary entries of closed anonymous-failure windows "
        "(run from cron when failures are rare; the next failure does it otherwise)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{close_windows()} summary entries written.")
