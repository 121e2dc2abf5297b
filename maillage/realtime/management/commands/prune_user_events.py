from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from maillage.realtime.events import prune


class Command(BaseCommand):
    help = "Drop the real-time events older than MAILLAGE_REALTIME_KEEP_HOURS."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{prune()} events pruned")
