"""The whole benchmark fixture: directory, patients, records, messages, and the signed-in doctor."""

from __future__ import annotations

import random
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q

from bench.accounts_data import build_accounts
from bench.directory_data import build_directory
from bench.messaging_data import build_messaging
from bench.patient_data import Patients, build_patients
from bench.record_data import build_records
from maillage.accounts.models import Role, User
from maillage.directory.models import Professional, Structure
from maillage.messaging.models import Delivery, Thread
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
    # The bench doctor's threads, most recent first: the thread page opens them in turn.
    threads: list[uuid.UUID]
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


def _document_progress(patients: int) -> Callable[[int], None]:
    """A line on stderr every 200 000 documents or so, for the long regional build."""
    started = time.perf_counter()
    step = 200_000
    next_line = [step]

    def show(done: int) -> None:
        if patients >= 100_000 and done >= next_line[0]:
            rate = done / max(time.perf_counter() - started, 1e-9)
            print(f"  documents: {done:,} ({rate:,.0f}/s)", file=sys.stderr)
            next_line[0] = done + step

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


def _panel_keys(panel: list[uuid.UUID]) -> list[int]:
    """Primary keys of the bench doctor's patients, in drawing order."""
    keys: dict[uuid.UUID, int] = {}
    for start in range(0, len(panel), 5_000):
        rows = Patient.objects.filter(uuid__in=panel[start : start + 5_000]).values_list(
            "uuid", "pk"
        )
        keys.update(rows)
    return [keys[u] for u in panel]


def _unread_threads(user: User) -> int:
    return (
        Thread.objects.filter(
            pk__in=Delivery.objects.filter(user=user, read_at__isnull=True).values(
                "message__thread_id"
            )
        )
        .distinct()
        .count()
    )


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
    people = build_accounts(directory, user)
    panel = _panel_keys(patients.panel)
    records = build_records(rng, patients.count, panel, people, _document_progress(sizes.patients))
    records_done = time.perf_counter()
    house = list(
        Patient.objects.filter(followed_by=directory.home_structure)
        .exclude(treating_doctor=doctor)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    messaging = build_messaging(
        rng,
        people,
        professionals=sizes.professionals,
        panel=panel,
        house=house,
        patients=list(Patient.objects.order_by("pk").values_list("pk", flat=True)),
        attachable=records.attachable,
    )
    messaging_done = time.perf_counter()
    name = _search_name(patients)
    visible, in_table = _matches(name, doctor, directory.home_structure)
    return Fixture(
        doctor=user,
        panel=patients.panel,
        search_name=name,
        search_visible=visible,
        search_in_table=in_table,
        threads=messaging.opened,
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
            "professionals' accounts": people.accounts,
            "documents": records.documents,
            "  replaced by a newer version": records.replaced,
            "  withdrawn": records.withdrawn,
            "  in the bench doctor's patients' records": records.panel_documents,
            "  current there (the record page lists)": records.panel_current,
            "  current in the longest of those records": records.panel_max_current,
            "care-team places (bench doctor's patients)": records.care_team,
            "stored files (none on disk)": records.files + messaging.files,
            "threads": messaging.threads,
            "  the bench doctor's": messaging.doctor_threads,
            "  the bench doctor's with unread messages": _unread_threads(user),
            "participants": messaging.participants,
            "messages": messaging.messages,
            "deliveries": messaging.deliveries,
            "attachments": messaging.attachments,
        },
        seconds={
            "directory": directory_done - started,
            "patients": patients_done - directory_done,
            "records": records_done - patients_done,
            "messaging": messaging_done - records_done,
        },
    )
