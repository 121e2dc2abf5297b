"""Aggregated figures of the territory; never a patient, never a small cell."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from maillage.directory.models import Professional, Structure, StructureKind
from maillage.directory.terminology import Profession
from maillage.policy.gate import patients_per_departement

# Counts below this are shown as "fewer than" (statistical confidentiality).
SMALL_CELL = 11


@dataclass(frozen=True)
class Cell:
    value: int

    @property
    def hidden(self) -> bool:
        return 0 < self.value < SMALL_CELL


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[tuple[str, list[Cell]]]


def _table(
    pairs: list[tuple[str, str, int]], labels: dict[str, str], departements: list[str]
) -> Table:
    counts = {(key, dep): n for key, dep, n in pairs}
    keys = [k for k in labels if any((k, d) in counts for d in departements)]
    return Table(
        departements,
        [(labels[k], [Cell(counts.get((k, d), 0)) for d in departements]) for k in keys],
    )


def departements_in_use() -> list[str]:
    return sorted(set(Structure.objects.values_list("commune__departement", flat=True)))


def structures_by_kind() -> Table:
    rows = (
        Structure.objects.filter(active=True)
        .values_list("kind", "commune__departement")
        .annotate(n=Count("pk"))
    )
    return _table(list(rows), {k.value: str(k.label) for k in StructureKind}, departements_in_use())


def professionals_by_profession() -> Table:
    rows = (
        Professional.objects.filter(active=True)
        .values_list("profession", "practices__structure__commune__departement")
        .annotate(n=Count("pk", distinct=True))
    )
    return _table(
        [r for r in rows if r[1]],
        {p.value: str(p.label) for p in Profession},
        departements_in_use(),
    )


def patients_by_departement() -> Table:
    counts = patients_per_departement()
    deps = departements_in_use()
    return Table(deps, [("patients", [Cell(counts.get(d, 0)) for d in deps])])
