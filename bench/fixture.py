"""The whole benchmark fixture: directory, patients, and the signed-in doctor."""

from __future__ import annotations

import random
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q

from bench.directory_data import build_directory
from bench.patient_data import Patients, build_patients
from maillage.accounts.models import Role, User
from maillage.directory.models import Professional, Structure
from maillage.patients.models import Patient
from maillage.patients.queries import patients_matching
from maillage.territory.models import Commune

SEED = "maillage-bench-2026"
BENCH_USERNAME = "bench.doctor"
# Fewer than this and a search page would not fill: 20 results and the search itself.
FULL_PAGE = 20


@dataclass(frozen=True)
class Sizes:
    patients: int
    professionals: int

    @property
    def structures(self) -> int:
        return max(10, self.professionals // 2)

    @property
    def practices(self) -> int:
        return self.professionals * 3 // 2


@dataclass
class Fixture:
    doctor: User
    panel: list[uuid.UUID]
    search_name: str
    search_visible: int
    search_in_table: int
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def _progress(total: int) -> Callable[[int], None]:
    """A line on stderr every 100 000 patients, for the long regional build."""
    started = time.perf_counter()
    step = 100_000

    def show(done: int) -> None:
        if total >= step and (done % step == 0 or done == total):
            rate = done / max(time.perf_counter() - started, 1e-9)
            print(f"  patients: {done:,}/{total:,} ({rate:,.0f}/s)", file=sys.stderr)

    return show


def _search_name(patients: Patients) -> str:
    """The birth name most common among the patients the doctor may see."""
    if not patients.visible_names:
        return "MOREAU"
    return patients.visible_names.most_common(1)[0][0]


def _doctor_account(professional: Professional) -> User:
    user = User(
        username=BENCH_USERNAME,
        role=Role.DOCTOR,
        first_name=professional.first_name,
        last_name=professional.last_name,
    )
    user.set_unusable_password()
    user.save()
    professional.user = user
    professional.save(update_fields=["user"])
    return user


def _matches(name: str, doctor: Professional, house: Structure) -> tuple[int, int]:
    criteria = patients_matching(name)
    in_table = Patient.objects.filter(criteria).count()
    visible = (
        Patient.objects.filter(criteria)
        .filter(Q(treating_doctor=doctor) | Q(followed_by=house))
        .distinct()
        .count()
    )
    return visible, in_table


def build(sizes: Sizes) -> Fixture:
    rng = random.Random(SEED)
    started = time.perf_counter()
    directory = build_directory(
        rng,
        structures=sizes.structures,
        professionals=sizes.professionals,
        practices=sizes.practices,
    )
    directory_done = time.perf_counter()
    show = _progress(sizes.patients)
    patients = build_patients(rng, directory, sizes.patients, show)
    patients_done = time.perf_counter()
    doctor = directory.home_gps[0]
    user = _doctor_account(doctor)
    name = _search_name(patients)
    visible, in_table = _matches(name, doctor, directory.home_structure)
    return Fixture(
        doctor=user,
        panel=patients.panel,
        search_name=name,
        search_visible=visible,
        search_in_table=in_table,
        counts={
            "communes": Commune.objects.count(),
            "structures": len(directory.structures),
            "professionals": len(directory.professionals),
            "practices": directory.practices,
            "GPs (médecins traitants)": len(directory.other_gps) + len(directory.home_gps),
            "patients": patients.count,
            "followed-by links": patients.links,
            "bench doctor's own patients": len(patients.panel),
            "patients the bench doctor may see": patients.visible,
        },
        seconds={
            "directory": directory_done - started,
            "patients": patients_done - directory_done,
        },
    )
