"""The patients of the benchmark, written in chunks so that 500 000 stay practical.

Identities come from the demo's seeded generators (names, given names by
generation, birth dates of an ageing population, matricules INS with valid
keys). ``bulk_create`` skips ``Patient.save``, so the match key is computed
here. Each patient's médecin traitant is a GP and the structure of that GP
follows them, as in the demo.

The bench doctor is the médecin traitant of a panel of about 1 000 patients
(a French GP's usual count) and their health house follows about 5 000 (five
GPs): that is what they may open and search, whatever the size of the table.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from bench.directory_data import BATCH, Directory, random_uuid
from maillage.demo import data
from maillage.demo import generate as gen
from maillage.directory.models import Professional, Structure
from maillage.lib.names import identity_match_key
from maillage.patients.models import InsKind, Patient

CHUNK = 10_000
PANEL = 1_000
HOUSE = 5_000
# Also followed by a hospital team (telemonitoring, a stay...).
HOSPITAL_SHARE = 0.03

# What a patient is to the bench doctor.
OWN, HOUSE_MATE, ELSEWHERE = 0, 1, 2


@dataclass
class Patients:
    count: int = 0
    links: int = 0
    # Public ids of the bench doctor's own patients, in drawing order.
    panel: list[uuid.UUID] = field(default_factory=list)
    # Birth names: among the patients the bench doctor may see, and in the table.
    visible_names: Counter[str] = field(default_factory=Counter)
    all_names: Counter[str] = field(default_factory=Counter)
    visible: int = 0


@dataclass(frozen=True)
class Care:
    doctor: Professional
    structures: tuple[Structure, ...]


def _identity(rng: random.Random, place: str, used: gen.UniqueDraw) -> Patient:
    sex = "F" if rng.random() < 0.52 else "M"
    born = gen.birth_date(rng)
    age = gen.age_on_reference(born)
    names = gen.given_names(rng, sex, born)
    first = names.split(" ")[0]
    birth_name = rng.choice(data.SURNAMES)
    used_name = ""
    if sex == "F" and age >= 25 and rng.random() < 0.55:
        used_name = rng.choice(data.SURNAMES)
    facts = gen.identity_facts(rng, age, place)
    return Patient(
        uuid=random_uuid(rng),
        birth_name=birth_name,
        first_birth_given_name=first,
        birth_given_names=names,
        birth_date=born,
        sex=sex,
        birthplace_code=place,
        used_name="" if used_name == birth_name else used_name,
        ins_matricule=gen.matricule(rng, sex, born, place, used, nia=False),
        ins_kind=InsKind.NIR,
        retrieved_from_insi=facts.retrieved_from_insi,
        identity_document=facts.identity_document,
        match_key=identity_match_key(birth_name, first, born),
        address_line=gen.street_address(rng),
        phone=gen.fictitious_phone(rng, mobile=age < 75),
    )


def _roles(rng: random.Random, count: int) -> list[int]:
    panel = max(1, min(PANEL, count // 10))
    house = max(panel, min(HOUSE, count // 2))
    roles = [OWN] * panel + [HOUSE_MATE] * (house - panel) + [ELSEWHERE] * (count - house)
    # Spread through the table: the bench doctor's rows are not all in the first pages.
    rng.shuffle(roles)
    return roles


def _care_picker(rng: random.Random, directory: Directory) -> Callable[[int], Care]:
    home = (directory.home_structure,)
    colleagues = directory.home_gps[1:]

    def care(role: int) -> Care:
        if role == OWN:
            chosen = Care(directory.home_gps[0], home)
        elif role == HOUSE_MATE:
            chosen = Care(rng.choice(colleagues), home)
        else:
            doctor, structure = rng.choice(directory.other_gps)
            chosen = Care(doctor, (structure,))
        if directory.hospitals and rng.random() < HOSPITAL_SHARE:
            chosen = Care(chosen.doctor, (*chosen.structures, rng.choice(directory.hospitals)))
        return chosen

    return care


def _write_chunk(
    rng: random.Random,
    roles: list[int],
    care: Callable[[int], Care],
    used: gen.UniqueDraw,
    result: Patients,
) -> None:
    rows: list[tuple[Patient, Care]] = []
    for role in roles:
        chosen = care(role)
        commune = chosen.structures[0].commune
        patient = _identity(rng, commune.insee_code, used)
        patient.commune = commune
        patient.treating_doctor = chosen.doctor
        rows.append((patient, chosen))
        result.all_names[patient.birth_name] += 1
        if role != ELSEWHERE:
            result.visible_names[patient.birth_name] += 1
            result.visible += 1
        if role == OWN:
            result.panel.append(patient.uuid)
    through = Patient.followed_by.through
    with transaction.atomic():
        Patient.objects.bulk_create([p for p, _ in rows], batch_size=BATCH)
        links = [
            through(patient_id=p.pk, structure_id=s.pk) for p, c in rows for s in set(c.structures)
        ]
        through.objects.bulk_create(links, batch_size=BATCH * 2)
    result.count += len(rows)
    result.links += len(links)


def build_patients(
    rng: random.Random, directory: Directory, count: int, progress: Callable[[int], None]
) -> Patients:
    roles = _roles(rng, count)
    care = _care_picker(rng, directory)
    used = gen.UniqueDraw()
    result = Patients()
    for start in range(0, count, CHUNK):
        _write_chunk(rng, roles[start : start + CHUNK], care, used, result)
        progress(result.count)
    return result
