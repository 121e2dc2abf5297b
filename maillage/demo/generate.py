"""Seeded generators for the demo: identifiers with valid keys and patient identities.

No database here: the builder passes in what it read (communes, GPs) and a
``random.Random`` seeded from ``data.SEED``, so that two runs on two machines
draw the same territory.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from maillage.demo import data
from maillage.lib.geo import GeoPoint, haversine_km
from maillage.lib.identifiers import finess_check_digit, luhn_check_digit
from maillage.lib.ins import IdentityStatus, matricule_key
from maillage.patients.models import IdentityDocument, InsKind

# Namespace of the demo's stable public ids (uuid5 of a stable key).
DEMO_NAMESPACE = uuid.UUID("6d61696c-6c61-6765-2d64-656d6f2d3138")


def stable_uuid(kind: str, key: str) -> uuid.UUID:
    """The same public id for the same demo object on every machine."""
    return uuid.uuid5(DEMO_NAMESPACE, f"{kind}:{key}")


def rng_for(section: str) -> random.Random:
    """One generator per section, so that adding to one leaves the others alone."""
    return random.Random(f"{data.SEED}:{section}")


class UniqueDraw:
    """Draws values until one is new; the generators below share one per kind."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def take(self, value: str) -> bool:
        if value in self.seen:
            return False
        self.seen.add(value)
        return True


def rpps(rng: random.Random, used: UniqueDraw) -> str:
    while True:
        payload = f"10{rng.randrange(10**8):08d}"
        value = payload + luhn_check_digit(payload)
        if used.take(value):
            return value


def finess(rng: random.Random, departement: str, used: UniqueDraw) -> str:
    while True:
        first_eight = f"{departement}{rng.randrange(10**6):06d}"
        value = first_eight + finess_check_digit(first_eight)
        if used.take(value):
            return value


def siret(rng: random.Random, departement: str, used: UniqueDraw, *, public: bool) -> str:
    """SIREN (Luhn) and NIC, the whole 14 digits Luhn-valid.

    Communes' SIREN start with 21 and the département; associations' with 8 or 9.
    """
    while True:
        if public:
            siren_payload = f"21{departement}{rng.randrange(10**4):04d}"
        else:
            siren_payload = f"{rng.choice('89')}{rng.randrange(10**7):07d}"
        siren = siren_payload + luhn_check_digit(siren_payload)
        nic_payload = f"{rng.randrange(1, 10**4):04d}"
        value = siren + nic_payload + luhn_check_digit(siren + nic_payload)
        if used.take(value):
            return value


def fictitious_phone(rng: random.Random, *, mobile: bool = False) -> str:
    """A number from the ranges ARCEP reserves for fiction."""
    prefix = "06 39 98" if mobile else "02 61 91"
    return f"{prefix} {rng.randrange(100):02d} {rng.randrange(100):02d}"


def ascii_slug(value: str, separator: str = "-") -> str:
    """Lower-case ASCII letters and digits, other runs replaced by ``separator``."""
    decomposed = unicodedata.normalize("NFKD", value.replace("œ", "oe").replace("Œ", "OE"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    words = "".join(c if c.isascii() and c.isalnum() else " " for c in plain).split()
    return separator.join(words)


def mailbox(local_parts: Sequence[str], domain: str) -> str:
    return ".".join(ascii_slug(part) for part in local_parts) + "@" + domain


@dataclass(frozen=True)
class CommunePlace:
    """What the generators need of a commune."""

    insee_code: str
    departement: str
    population: int
    point: GeoPoint


def nearby(
    origin: CommunePlace, communes: Sequence[CommunePlace], radius_km: float
) -> list[CommunePlace]:
    return [c for c in communes if haversine_km(origin.point, c.point) <= radius_km]


@dataclass(frozen=True)
class IdentityFacts:
    retrieved_from_insi: bool
    identity_document: str
    doubtful: bool = False

    @property
    def expected_status(self) -> IdentityStatus:
        if self.doubtful:
            return IdentityStatus.PROVISIONAL
        if self.retrieved_from_insi and self.identity_document:
            return IdentityStatus.QUALIFIED
        if self.retrieved_from_insi:
            return IdentityStatus.RETRIEVED
        if self.identity_document:
            return IdentityStatus.VALIDATED
        return IdentityStatus.PROVISIONAL


@dataclass(frozen=True)
class PatientIdentity:
    birth_name: str
    birth_given_names: str
    birth_date: dt.date
    sex: str
    birthplace_code: str
    matricule: str
    ins_kind: str
    facts: IdentityFacts
    used_name: str = ""
    used_given_name: str = ""

    @property
    def first_birth_given_name(self) -> str:
        return self.birth_given_names.split(" ")[0]


# Age bands of a rural, ageing population: (youngest, oldest, weight).
_AGE_BANDS = ((0, 15, 12), (16, 39, 17), (40, 59, 22), (60, 74, 26), (75, 89, 18), (90, 101, 5))


def birth_date(rng: random.Random) -> dt.date:
    low, high, _ = rng.choices(_AGE_BANDS, weights=[b[2] for b in _AGE_BANDS])[0]
    age = rng.randint(low, high)
    latest = data.REFERENCE_DATE.replace(year=data.REFERENCE_DATE.year - age)
    return latest - dt.timedelta(days=rng.randrange(1, 365))


def age_on_reference(born: dt.date) -> int:
    ref = data.REFERENCE_DATE
    return ref.year - born.year - ((ref.month, ref.day) < (born.month, born.day))


def given_names(rng: random.Random, sex: str, born: dt.date) -> str:
    pools = data.GIVEN_NAMES[sex]
    era = min(year for year in pools if born.year <= year)
    pool = pools[era]
    count = rng.choices((1, 2, 3), weights=(3, 4, 3) if born.year < 1970 else (5, 4, 1))[0]
    chosen = rng.sample(pool, count)
    has_marie = any(name.startswith("Marie") for name in chosen)
    if sex == "F" and born.year < 1950 and not has_marie and rng.random() < 0.3:
        chosen.append("Marie")  # the classic second or third given name of the generation
    return " ".join(chosen)


def birthplace(rng: random.Random, residence: CommunePlace, born: dt.date) -> str:
    roll = rng.random()
    if roll < 0.07:
        return rng.choice(sorted(data.BIRTH_COUNTRIES))
    if roll < 0.19:
        return rng.choice(sorted(data.OTHER_BIRTH_TOWNS))
    # Home births in the village before maternities took over, in the 1960s.
    if born.year < 1960 and roll < 0.55:
        return residence.insee_code
    return rng.choice(sorted(data.MATERNITY_TOWNS[residence.departement]))


def matricule(
    rng: random.Random, sex: str, born: dt.date, place: str, used: UniqueDraw, *, nia: bool
) -> str:
    sex_digit = {("M", False): "1", ("F", False): "2", ("M", True): "7", ("F", True): "8"}
    while True:
        body = f"{sex_digit[sex, nia]}{born.year % 100:02d}{born.month:02d}{place}"
        body += f"{rng.randrange(1, 1000):03d}"
        value = body + matricule_key(body)
        if used.take(value):
            return value


def identity_facts(rng: random.Random, age: int, birthplace_code: str) -> IdentityFacts:
    """Mostly qualified (INSi and a document), some retrieved, validated or provisional."""
    roll = rng.random()
    from_insi = roll < 0.82
    checked = roll < 0.70 or 0.82 <= roll < 0.91
    if not checked:
        return IdentityFacts(from_insi, IdentityDocument.NONE)
    if age < 18:
        document = rng.choices(
            (
                IdentityDocument.FAMILY_BOOK,
                IdentityDocument.BIRTH_CERTIFICATE,
                IdentityDocument.IDENTITY_CARD,
            ),
            weights=(6, 2, 2),
        )[0]
    elif birthplace_code in data.RESIDENCE_PERMIT_COUNTRIES:
        document = IdentityDocument.RESIDENCE_PERMIT
    else:
        document = rng.choices(
            (IdentityDocument.IDENTITY_CARD, IdentityDocument.PASSPORT), weights=(8, 2)
        )[0]
    return IdentityFacts(from_insi, document)


def patient_identity(
    rng: random.Random, residence: CommunePlace, used_matricules: UniqueDraw
) -> PatientIdentity:
    sex = "F" if rng.random() < 0.52 else "M"
    born = birth_date(rng)
    age = age_on_reference(born)
    birth_name = rng.choice(data.SURNAMES)
    names = given_names(rng, sex, born)
    place = birthplace(rng, residence, born)
    # A few people born abroad and registered recently hold a NIA.
    nia = place.startswith("99") and born.year >= 1990 and rng.random() < 0.5
    used_name = ""
    if sex == "F" and age >= 25 and rng.random() < 0.55:
        used_name = rng.choice([s for s in data.SURNAMES if s != birth_name])
    used_given_name = ""
    if " " in names and rng.random() < 0.06:
        used_given_name = names.split(" ")[1]  # known by her or his second given name
    return PatientIdentity(
        birth_name=birth_name,
        birth_given_names=names,
        birth_date=born,
        sex=sex,
        birthplace_code=place,
        matricule=matricule(rng, sex, born, place, used_matricules, nia=nia),
        ins_kind=InsKind.NIA if nia else InsKind.NIR,
        facts=identity_facts(rng, age, place),
        used_name=used_name,
        used_given_name=used_given_name,
    )


def street_address(rng: random.Random) -> str:
    if rng.random() < 0.12:
        return rng.choice(data.HAMLETS)
    number = rng.randint(1, 60)
    suffix = " bis" if rng.random() < 0.05 else ""
    return f"{number}{suffix} {rng.choice(data.STREETS)}"
