"""The directory of the benchmark: structures, professionals and their practices.

Drawn from a seeded generator over the communes the migration loaded, so that
two runs measure the same territory. Structures fall on communes weighted by
the square root of their population: towns hold more of them, villages some.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from maillage.demo import data
from maillage.directory.models import Practice, Professional, Structure, StructureKind
from maillage.directory.terminology import GENERAL_PRACTICE, Profession, Specialty
from maillage.lib.identifiers import luhn_check_digit
from maillage.lib.names import normalise_name
from maillage.territory.models import Commune

BATCH = 2000
# The commune of the bench doctor's health house (the demo's médecin traitant's too).
HOME_COMMUNE = "18242"  # Sancoins
COLLEAGUES = 4  # other GPs of the bench doctor's health house

KIND_WEIGHTS: dict[str, float] = {
    StructureKind.PHARMACY: 30,
    StructureKind.TELECONSULTATION_POINT: 14,
    StructureKind.EHPAD: 14,
    StructureKind.MSP: 12,
    StructureKind.HEALTH_CENTRE: 9,
    StructureKind.HOSPITAL: 5,
    StructureKind.SPECIALIST_TEAM: 6,
    StructureKind.CPTS: 4,
    StructureKind.MOBILE_UNIT: 2,
}
PROFESSION_WEIGHTS: dict[str, float] = {
    Profession.DOCTOR: 40,
    Profession.NURSE: 25,
    Profession.PHARMACIST: 12,
    Profession.PHYSIOTHERAPIST: 10,
    Profession.DENTIST: 5,
    Profession.MIDWIFE: 3,
    Profession.SPEECH_THERAPIST: 2,
    Profession.PODIATRIST: 1,
    Profession.ORTHOPTIST: 1,
    Profession.OCCUPATIONAL_THERAPIST: 0.5,
    Profession.DIETITIAN: 0.5,
}
GP_SHARE = 0.55  # of doctors
_GP_CODES = sorted(GENERAL_PRACTICE)
_SPECIALIST_CODES = sorted(code for code in Specialty.values if code not in GENERAL_PRACTICE)
_CARE_HOUSES = (StructureKind.MSP, StructureKind.HEALTH_CENTRE)
# Where each kind of professional has their main practice.
_MAIN_KINDS: dict[str, tuple[str, ...]] = {
    "gp": _CARE_HOUSES,
    "specialist": (
        StructureKind.HOSPITAL,
        StructureKind.SPECIALIST_TEAM,
        StructureKind.HEALTH_CENTRE,
    ),
    Profession.PHARMACIST: (StructureKind.PHARMACY,),
    Profession.NURSE: (*_CARE_HOUSES, StructureKind.EHPAD, StructureKind.HOSPITAL),
}
_SECOND_KINDS = (
    *_CARE_HOUSES,
    StructureKind.TELECONSULTATION_POINT,
    StructureKind.MOBILE_UNIT,
    StructureKind.CPTS,
    StructureKind.EHPAD,
)


@dataclass
class Directory:
    structures: list[Structure]
    professionals: list[Professional]
    practices: int
    # The bench doctor's health house and its GPs (the bench doctor first).
    home_structure: Structure
    home_gps: list[Professional]
    # Every other GP, with the structure whose patients they treat.
    other_gps: list[tuple[Professional, Structure]]
    hospitals: list[Structure]


def random_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _structures(rng: random.Random, count: int) -> list[Structure]:
    communes = list(Commune.objects.order_by("insee_code"))
    weights = [max(c.population, 50) ** 0.5 for c in communes]
    home = next(c for c in communes if c.insee_code == HOME_COMMUNE)
    places = [home, *rng.choices(communes, weights=weights, k=count - 1)]
    kinds = [
        StructureKind.MSP,
        *rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()), k=count - 1),
    ]
    structures = [
        Structure(
            uuid=random_uuid(rng),
            name=f"{StructureKind(kind).label} {commune.name} n°{n}",
            kind=kind,
            commune=commune,
            phone=f"02 61 91 {n // 100 % 100:02d} {n % 100:02d}",
        )
        for n, (commune, kind) in enumerate(zip(places, kinds, strict=True))
    ]
    Structure.objects.bulk_create(structures, batch_size=BATCH)
    return structures


def _rpps(n: int) -> str:
    payload = f"10{n:08d}"
    return payload + luhn_check_digit(payload)


def _first_name(rng: random.Random) -> str:
    sex = rng.choice("FM")
    return rng.choice(data.GIVEN_NAMES[sex][rng.choice((1969, 1989))])


def _professional(rng: random.Random, n: int, profession: str, specialty: str) -> Professional:
    last_name = rng.choice(data.SURNAMES).title()
    answers = (profession == Profession.DOCTOR and specialty not in GENERAL_PRACTICE) or (
        profession == Profession.MIDWIFE
    )
    teleexpertise = answers and rng.random() < 0.4
    return Professional(
        uuid=random_uuid(rng),
        rpps=_rpps(n),
        last_name=last_name,
        first_name=_first_name(rng),
        # bulk_create skips Professional.save, which computes it.
        search_name=normalise_name(last_name),
        profession=profession,
        specialty=specialty,
        phone=f"02 61 91 {n // 100 % 100:02d} {n % 100:02d}",
        secure_messaging_address=f"pro{n}@mssante.bench.invalid",
        accepts_teleexpertise=teleexpertise,
        teleexpertise_response_hours=rng.choice((24, 48, 72, 168)) if teleexpertise else None,
    )


def _draw_profession(rng: random.Random) -> tuple[str, str]:
    profession = rng.choices(list(PROFESSION_WEIGHTS), weights=list(PROFESSION_WEIGHTS.values()))[0]
    if profession != Profession.DOCTOR:
        return profession, ""
    if rng.random() < GP_SHARE:
        return profession, rng.choice(_GP_CODES)
    return profession, rng.choice(_SPECIALIST_CODES)


def _professionals(rng: random.Random, count: int) -> list[Professional]:
    home_gps = [
        _professional(rng, n, Profession.DOCTOR, Specialty.GENERAL_PRACTICE)
        for n in range(1 + COLLEAGUES)
    ]
    others = [_professional(rng, n, *_draw_profession(rng)) for n in range(len(home_gps), count)]
    professionals = home_gps + others
    Professional.objects.bulk_create(professionals, batch_size=BATCH)
    return professionals


def _main_kinds(professional: Professional) -> tuple[str, ...]:
    if professional.profession == Profession.DOCTOR:
        return _MAIN_KINDS["gp" if professional.specialty in GENERAL_PRACTICE else "specialist"]
    return _MAIN_KINDS.get(professional.profession, _CARE_HOUSES)


def _by_kind(structures: Sequence[Structure]) -> dict[str, list[Structure]]:
    pools: dict[str, list[Structure]] = defaultdict(list)
    # The bench doctor's house takes no one else: its patients stay the bench's.
    for structure in structures[1:]:
        pools[structure.kind].append(structure)
    return pools


def _pick(rng: random.Random, pools: dict[str, list[Structure]], kinds: Sequence[str]) -> Structure:
    candidates = [kind for kind in kinds if pools[kind]]
    return rng.choice(pools[rng.choice(candidates)])


def _practices(
    rng: random.Random,
    structures: list[Structure],
    professionals: list[Professional],
    count: int,
    home_count: int,
) -> dict[int, Structure]:
    """One main practice each, then second ones until ``count``; the main ones returned."""
    pools = _by_kind(structures)
    main = {p.pk: structures[0] for p in professionals[:home_count]}
    for professional in professionals[home_count:]:
        main[professional.pk] = _pick(rng, pools, _main_kinds(professional))
    pairs = {(pk, s.pk) for pk, s in main.items()}
    # The bench doctors keep one practice: what they may see stays exactly known.
    candidates = professionals[home_count:]
    while len(pairs) < count and candidates:
        professional = rng.choice(candidates)
        pairs.add((professional.pk, _pick(rng, pools, _SECOND_KINDS).pk))
    Practice.objects.bulk_create(
        [
            Practice(uuid=random_uuid(rng), professional_id=pro, structure_id=structure)
            for pro, structure in sorted(pairs)
        ],
        batch_size=BATCH,
    )
    return main


def build_directory(
    rng: random.Random, *, structures: int, professionals: int, practices: int
) -> Directory:
    placed = _structures(rng, structures)
    people = _professionals(rng, professionals)
    home_count = 1 + COLLEAGUES
    main = _practices(rng, placed, people, practices, home_count)
    other_gps = [
        (p, main[p.pk])
        for p in people[home_count:]
        if p.profession == Profession.DOCTOR and p.specialty in GENERAL_PRACTICE
    ]
    return Directory(
        structures=placed,
        professionals=people,
        practices=Practice.objects.count(),
        home_structure=placed[0],
        home_gps=people[:home_count],
        other_gps=other_gps,
        hospitals=[s for s in placed if s.kind == StructureKind.HOSPITAL],
    )
