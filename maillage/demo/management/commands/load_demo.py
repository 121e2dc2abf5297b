from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from maillage.demo.builder import LoadReport, demo_is_loaded, load_demo
from maillage.demo.logins import login_rows, render_logins
from maillage.directory.models import StructureKind
from maillage.directory.terminology import Profession

_CREATED_LABELS = {
    "communes": "communes",
    "structures": "structures",
    "equipment": "équipements",
    "professionals": "professionnels",
    "practices": "exercices de professionnels dans une structure",
    "users": "comptes",
    "staff posts": "rattachements de personnel",
    "patients": "patients",
    "followed by": "suivis de patients par une structure",
    "documents": "documents dans le dossier de la patiente de démonstration",
    "messages": "messages sécurisés entre professionnels",
    "pools": "pôles de télé-expertise et leurs membres",
    "requests": "demandes de télé-expertise",
    "assisted sessions": "téléconsultations assistées (unités mobiles, cabine de pharmacie)",
}


class Command(BaseCommand):
    help = (
        "Charge le territoire de démonstration (Cher et Loir-et-Cher) : structures, "
        "professionnels, patients et comptes de démonstration. Relancé, n'ajoute que ce qui manque."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="ne rien faire si la démonstration est déjà chargée (compte medecin.traitant)",
        )

    def handle(self, *args: Any, if_empty: bool, **options: Any) -> None:
        # The demo accounts share a published password, an administrator among them.
        if settings.HTTPS and not settings.DEMO_MODE:
            raise CommandError(
                "Refusé : instance de production (MAILLAGE_HTTPS=1 sans MAILLAGE_DEMO_MODE=1). "
                "Les comptes de démonstration ont un mot de passe public."
            )
        if if_empty and demo_is_loaded():
            self.stdout.write("Démonstration déjà chargée : rien à faire (--if-empty).")
            self.stdout.write("")
            self.stdout.write(render_logins(login_rows()))
            return
        report = load_demo()
        self.stdout.write(summary(report))
        self.stdout.write("")
        self.stdout.write(render_logins(login_rows()))


def summary(report: LoadReport) -> str:
    with translation.override("fr"):
        kinds = [
            f"  {kind.label!s} : {report.structures_by_kind[kind]}"
            for kind in StructureKind
            if report.structures_by_kind[kind]
        ]
        professions = [
            f"  {profession.label!s} : {report.professionals_by_profession[profession]}"
            for profession in Profession
            if report.professionals_by_profession[profession]
        ]
    statuses = ", ".join(
        f"{status} {report.patients_by_status.get(status, 0)}"
        for status in ("QUAL", "VALI", "RECUP", "PROV")
    )
    created = ", ".join(
        f"{count} {_CREATED_LABELS.get(name, name)}"
        for name, count in report.created.items()
        if count
    )
    t = report.totals
    return "\n".join(
        [
            f"Territoire de démonstration chargé en {report.seconds:.1f} s.",
            f"Ajouts de ce chargement : {created or 'aucun (tout était déjà là)'}.",
            f"Structures : {t['structures']} (équipements : {t['equipment']})",
            *kinds,
            f"Professionnels : {t['professionals']} (exercices : {t['practices']})",
            *professions,
            f"Patients : {t['patients']} (statuts : {statuses} ; "
            f"télésurveillés par le CH de Bourges : {t['telemonitored']})",
            f"Comptes de démonstration : {t['demo accounts']}",
        ]
    )
