from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from maillage.demo.builder import demo_is_loaded
from maillage.demo.logins import login_rows, render_logins


class Command(BaseCommand):
    help = "Affiche les comptes de démonstration, leur rôle, quoi essayer, et le mot de passe."

    def handle(self, *args: Any, **options: Any) -> None:
        if not demo_is_loaded():
            self.stdout.write(
                self.style.WARNING(
                    "Le territoire de démonstration n'est pas chargé : aucun compte de "
                    "démonstration. Lancez `manage.py load_demo`."
                )
            )
            return
        self.stdout.write(render_logins(login_rows()))
