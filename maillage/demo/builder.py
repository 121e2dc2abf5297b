"""Loading the demo territory into the database, idempotently.

Every object is first drawn in memory from the seeded generators (always the
same draws, whatever the database holds), then only the missing ones are
written, looked up by a stable key: the username for accounts, a uuid5 of a
stable name for everything else, the pair of ids for links. A second load
therefore writes nothing, and an object edited during a demo is left as it is.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.db import models, transaction

from maillage.accounts.models import User
from maillage.demo import data
from maillage.demo import generate as gen
from maillage.demo.acts import ensure_demo_reports
from maillage.demo.agenda import ensure_demo_agendas
from maillage.demo.assisted import ensure_demo_assisted
from maillage.demo.expertise import ensure_demo_requests, ensure_pools
from maillage.demo.messages import ensure_demo_messages
from maillage.demo.record import ensure_demo_record
from maillage.demo.teleconsult import ensure_demo_teleconsultations
from maillage.directory.models import (
    EQUIPPED_KINDS,
    FinessType,
    MailboxType,
    Practice,
    Professional,
    Structure,
    StructureEquipment,
    StructureKind,
)
from maillage.directory.terminology import GENERAL_PRACTICE, Profession
from maillage.lib.names import identity_match_key, normalise_name
from maillage.patients.models import IdentityDocument, Patient
from maillage.territory.loader import load_communes
from maillage.territory.models import Commune

M = TypeVar("M", bound=models.Model)
_TOWN_HALL_POINT = StructureKind.TELECONSULTATION_POINT
ProfessionalKey = tuple[str, str]


class DemoDataError(Exception):
    """The data of the demo disagree with the database (a wrong INSEE code...)."""


@dataclass
class LoadReport:
    """What the demo holds after a load, and what this load added."""

    created: Counter[str] = field(default_factory=Counter)
    structures_by_kind: Counter[str] = field(default_factory=Counter)
    professionals_by_profession: Counter[str] = field(default_factory=Counter)
    patients_by_status: Counter[str] = field(default_factory=Counter)
    totals: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def created_anything(self) -> bool:
        return any(self.created.values())


def demo_is_loaded() -> bool:
    return User.objects.filter(username=data.SENTINEL_USERNAME).exists()


def load_demo() -> LoadReport:
    """Write whatever part of the demo territory is missing, in one transaction."""
    started = time.perf_counter()
    report = LoadReport()
    with transaction.atomic():
        communes = _communes(report)
        structures = _ensure_structures(communes, report)
        _ensure_equipment(structures, report)
        professionals = _ensure_professionals(structures, report)
        users = _ensure_logins(structures, professionals, report)
        _ensure_patients(communes, structures, professionals, users, report)
        report.created["documents"] += ensure_demo_record(users)
        report.created["messages"] += ensure_demo_messages(users)
        report.created["pools"] += ensure_pools(structures, professionals)
        report.created["requests"] += ensure_demo_requests(users)
        # Before the teleconsultations and their reports: the patient's past act links its
        # appointment.
        report.created["slots"] += ensure_demo_agendas(users)
        report.created["teleconsultations"] += ensure_demo_teleconsultations(users)
        report.created["teleconsultation reports"] += ensure_demo_reports(users)
        # After them: the patient's first report stays that of her teleconsultation at home.
        report.created["assisted sessions"] += ensure_demo_assisted(users)
    report.seconds = time.perf_counter() - started
    return report


# --- Helpers -----------------------------------------------------------------------


def _ensure(model: type[M], wanted: Sequence[M], key: str) -> tuple[dict[Any, M], int]:
    """The rows with these keys: those found, and the missing ones created."""
    keys = [getattr(obj, key) for obj in wanted]
    found: dict[Any, M] = {
        getattr(obj, key): obj for obj in model._default_manager.filter(**{f"{key}__in": keys})
    }
    missing = [obj for obj in wanted if getattr(obj, key) not in found]
    model._default_manager.bulk_create(missing, batch_size=500)
    found.update({getattr(obj, key): obj for obj in missing})
    return found, len(missing)


def _ensure_links(
    through: type[models.Model], left: str, right: str, pairs: Iterable[tuple[int, int | str]]
) -> int:
    """Create the missing rows of a link table; return how many."""
    wanted = set(pairs)
    lefts = {a for a, _ in wanted}
    existing = set(
        through._default_manager.filter(**{f"{left}__in": lefts}).values_list(left, right)
    )
    missing = sorted(wanted - existing)
    through._default_manager.bulk_create(
        [through(**{left: a, right: b}) for a, b in missing], batch_size=500
    )
    return len(missing)


def _professional_key(first_name: str, last_name: str) -> str:
    return f"{first_name} {last_name}"


# --- Communes ----------------------------------------------------------------------


def _communes(report: LoadReport) -> dict[str, Commune]:
    """The communes the demo names, checked against the names it expects."""
    expected = {code: name for code, (name, _) in data.PLACES.items()}
    for towns in data.MATERNITY_TOWNS.values():
        expected.update(towns)
    expected.update(data.OTHER_BIRTH_TOWNS)
    # Communes come by migration; a flushed test database may lack them.
    if Commune.objects.filter(insee_code__in=expected).count() < len(expected):
        report.created["communes"] += load_communes(Commune)
    communes = {
        c.insee_code: c
        for c in Commune.objects.filter(departement__in=data.RESIDENCE_DEPARTEMENTS)
        | Commune.objects.filter(insee_code__in=expected)
    }
    wrong = [
        f"{code} ({name})"
        for code, name in expected.items()
        if code not in communes or communes[code].name != name
    ]
    if wrong:
        raise DemoDataError(f"INSEE codes missing or misnamed: {', '.join(sorted(wrong))}")
    return communes


# --- Structures --------------------------------------------------------------------


def _plan_structure(
    item: data.StructureData,
    commune: Commune,
    rng: random.Random,
    finess: gen.UniqueDraw,
    sirets: gen.UniqueDraw,
) -> Structure:
    departement = item.insee_code[:2]
    in_finess = item.kind in data.FINESS_KINDS
    return Structure(
        uuid=gen.stable_uuid("structure", item.key),
        name=item.name,
        kind=item.kind,
        commune=commune,
        address_line=item.address,
        postal_code=data.PLACES[item.insee_code][1],
        finess=gen.finess(rng, departement, finess) if in_finess else None,
        finess_type=FinessType.GEOGRAPHIC if in_finess else "",
        siret=(
            gen.siret(rng, departement, sirets, public=item.kind == _TOWN_HALL_POINT)
            if item.kind in data.SIRET_KINDS
            else None
        ),
        phone=gen.fictitious_phone(rng),
        secure_messaging_address=(
            gen.mailbox(("secretariat", item.key), data.MSSANTE_DOMAIN)
            if item.kind in data.MAILBOX_KINDS
            else ""
        ),
    )


def _ensure_structures(communes: dict[str, Commune], report: LoadReport) -> dict[str, Structure]:
    rng = gen.rng_for("structures")
    finess, sirets = gen.UniqueDraw(), gen.UniqueDraw()
    planned = [
        _plan_structure(item, communes[item.insee_code], rng, finess, sirets)
        for item in data.STRUCTURES
    ]
    by_uuid, created = _ensure(Structure, planned, "uuid")
    report.created["structures"] += created
    structures = {
        item.key: by_uuid[plan.uuid] for item, plan in zip(data.STRUCTURES, planned, strict=True)
    }
    report.structures_by_kind.update(s.kind for s in structures.values())
    report.totals["structures"] = len(structures)
    return structures


def planned_equipment(item: data.StructureData, rng: random.Random) -> list[str]:
    """The equipment of an equipped structure: its kind's base kit and a few extras."""
    if item.kind not in EQUIPPED_KINDS:
        return []
    if item.kind == StructureKind.PHARMACY and not item.teleconsultation_room:
        return []
    extra = data.EQUIPMENT_EXTRA[item.kind]
    most = {StructureKind.TELECONSULTATION_POINT: 5}.get(item.kind, 2)
    count = rng.randint(1 if item.kind == StructureKind.TELECONSULTATION_POINT else 0, most)
    return sorted({*data.EQUIPMENT_BASE[item.kind], *rng.sample(extra, count)})


def _ensure_equipment(structures: dict[str, Structure], report: LoadReport) -> None:
    rng = gen.rng_for("equipment")
    pairs = [
        (structures[item.key].pk, kind)
        for item in data.STRUCTURES
        for kind in planned_equipment(item, rng)
    ]
    report.created["equipment"] += _ensure_links(StructureEquipment, "structure_id", "kind", pairs)
    report.totals["equipment"] = len(pairs)


# --- Professionals -------------------------------------------------------------------


def _plan_professional(
    item: data.ProfessionalData, rng: random.Random, rpps: gen.UniqueDraw
) -> Professional:
    key = _professional_key(item.first_name, item.last_name)
    in_practice = item.profession in {Profession.DOCTOR, Profession.PHYSIOTHERAPIST}
    return Professional(
        uuid=gen.stable_uuid("professional", key),
        rpps=gen.rpps(rng, rpps),
        first_name=item.first_name,
        last_name=item.last_name,
        # bulk_create skips Professional.save, which computes it.
        search_name=normalise_name(item.last_name),
        profession=item.profession,
        specialty=item.specialty or "",
        phone=gen.fictitious_phone(rng),
        secure_messaging_address=gen.mailbox(
            (item.first_name, item.last_name), data.MSSANTE_DOMAIN
        ),
        # A few liberal practices use a shared practice mailbox; a few opted out of the listing.
        mailbox_type=(
            MailboxType.PRACTICE if in_practice and rng.random() < 0.15 else MailboxType.PERSONAL
        ),
        mailbox_unlisted=rng.random() < 0.06,
        accepts_teleexpertise=item.teleexpertise_hours is not None,
        teleexpertise_response_hours=item.teleexpertise_hours,
    )


def _ensure_professionals(
    structures: dict[str, Structure], report: LoadReport
) -> dict[ProfessionalKey, Professional]:
    rng = gen.rng_for("professionals")
    rpps = gen.UniqueDraw()
    planned = [_plan_professional(item, rng, rpps) for item in data.PROFESSIONALS]
    by_uuid, created = _ensure(Professional, planned, "uuid")
    report.created["professionals"] += created
    professionals = {
        (item.first_name, item.last_name): by_uuid[plan.uuid]
        for item, plan in zip(data.PROFESSIONALS, planned, strict=True)
    }
    practices = [
        Practice(
            uuid=gen.stable_uuid("practice", f"{item.first_name} {item.last_name}@{key}"),
            professional=professionals[item.first_name, item.last_name],
            structure=structures[key],
        )
        for item in data.PROFESSIONALS
        for key in item.structures
    ]
    _, created = _ensure(Practice, practices, "uuid")
    report.created["practices"] += created
    report.professionals_by_profession.update(p.profession for p in professionals.values())
    report.totals["professionals"] = len(professionals)
    report.totals["practices"] = len(practices)
    return professionals


# --- Accounts ------------------------------------------------------------------------


def _ensure_logins(
    structures: dict[str, Structure],
    professionals: dict[ProfessionalKey, Professional],
    report: LoadReport,
) -> dict[str, User]:
    usernames = [login.username for login in data.LOGINS]
    users = {u.username: u for u in User.objects.filter(username__in=usernames)}
    missing = [login for login in data.LOGINS if login.username not in users]
    if missing:
        # One hash for every demo account: argon2 is slow on purpose, and the
        # password is public anyway.
        password = make_password(data.DEMO_PASSWORD)
        new = [
            User(
                uuid=gen.stable_uuid("user", login.username),
                username=login.username,
                password=password,
                role=login.role,
                first_name=login.first_name,
                last_name=login.last_name,
                is_demo=True,
                is_staff=login.is_superuser,
                is_superuser=login.is_superuser,
            )
            for login in missing
        ]
        User.objects.bulk_create(new)
        users.update({u.username: u for u in new})
        report.created["users"] += len(new)
    for login in data.LOGINS:
        if login.professional is None:
            continue
        professional = professionals[login.professional]
        if professional.user_id is None:
            professional.user = users[login.username]
            professional.save(update_fields=["user"])
    report.created["staff posts"] += _ensure_links(
        User.structures.through,
        "user_id",
        "structure_id",
        [
            (users[login.username].pk, structures[key].pk)
            for login in data.LOGINS
            for key in login.staff_of
        ],
    )
    report.totals["demo accounts"] = len(users)
    return users


# --- Patients ------------------------------------------------------------------------


@dataclass(frozen=True)
class _PlannedPatient:
    # The rank in the draw keys the patient: a change in the generators
    # then leaves an existing demo alone instead of adding 300 new people.
    key: str
    patient: Patient
    followed_by: tuple[str, ...]


def _place(commune: Commune) -> gen.CommunePlace:
    return gen.CommunePlace(
        commune.insee_code, commune.departement, commune.population, commune.point
    )


def _residence_choices(
    places: list[gen.CommunePlace], gp_commune: Commune
) -> tuple[list[gen.CommunePlace], list[float]]:
    around = gen.nearby(_place(gp_commune), places, data.RESIDENCE_RADIUS_KM)
    # Villages count more than their size alone says: this is rural care.
    return around, [max(c.population, 50) ** 0.75 for c in around]


def _demo_patient(
    communes: dict[str, Commune],
    professionals: dict[ProfessionalKey, Professional],
    used: gen.UniqueDraw,
) -> _PlannedPatient:
    d = data.DEMO_PATIENT
    matricule = gen.matricule(
        gen.rng_for("demo-patient"), "F", d.birth_date, d.birthplace_code, used, nia=False
    )
    patient = Patient(
        birth_name=d.birth_name,
        first_birth_given_name=d.birth_given_names.split(" ")[0],
        birth_given_names=d.birth_given_names,
        birth_date=d.birth_date,
        sex="F",
        birthplace_code=d.birthplace_code,
        used_name=d.used_name,
        ins_matricule=matricule,
        retrieved_from_insi=True,
        identity_document=IdentityDocument.IDENTITY_CARD,
        commune=communes[d.insee_code],
        address_line=d.address,
        phone=d.phone,
        treating_doctor=professionals[d.treating_doctor],
    )
    return _PlannedPatient("demo", patient, (d.followed_by,))


def _gp_entries() -> tuple[list[data.ProfessionalData], list[float]]:
    gps = [p for p in data.PROFESSIONALS if p.specialty in GENERAL_PRACTICE]
    weights = [data.GP_PATIENT_WEIGHTS.get((p.first_name, p.last_name), 1.0) for p in gps]
    return gps, weights


def _plan_patients(
    communes: dict[str, Commune], professionals: dict[ProfessionalKey, Professional]
) -> list[_PlannedPatient]:
    rng = gen.rng_for("patients")
    used = gen.UniqueDraw()
    planned = [_demo_patient(communes, professionals, used)]
    first = planned[0].patient
    match_keys = {
        identity_match_key(first.birth_name, first.first_birth_given_name, first.birth_date)
    }
    gps, weights = _gp_entries()
    places = [
        _place(c)
        for _, c in sorted(communes.items())
        if c.departement in data.RESIDENCE_DEPARTEMENTS
    ]
    residences = {
        gp.structures[0]: _residence_choices(places, _structure_commune(communes, gp)) for gp in gps
    }
    while len(planned) < data.PATIENT_COUNT:
        gp = rng.choices(gps, weights=weights)[0]
        around, around_weights = residences[gp.structures[0]]
        residence = rng.choices(around, weights=around_weights)[0]
        identity = gen.patient_identity(rng, residence, used)
        key = identity_match_key(
            identity.birth_name, identity.first_birth_given_name, identity.birth_date
        )
        if key in match_keys:
            continue  # two different people with the same strict traits would look like one
        match_keys.add(key)
        planned.append(
            _PlannedPatient(
                str(len(planned)),
                _patient_from(
                    rng,
                    identity,
                    communes[residence.insee_code],
                    professionals[gp.first_name, gp.last_name],
                ),
                (gp.structures[0],),
            )
        )
    _mark_doubtful(rng, planned)
    return _add_telemonitoring(rng, planned)


def _structure_commune(communes: dict[str, Commune], gp: data.ProfessionalData) -> Commune:
    """The commune of a GP's main practice."""
    main = next(item for item in data.STRUCTURES if item.key == gp.structures[0])
    return communes[main.insee_code]


def _patient_from(
    rng: random.Random, identity: gen.PatientIdentity, commune: Commune, gp: Professional
) -> Patient:
    age = gen.age_on_reference(identity.birth_date)
    email = ""
    if 18 <= age < 70 and rng.random() < 0.35:
        email = gen.mailbox(
            (
                identity.used_given_name or identity.first_birth_given_name,
                identity.used_name or identity.birth_name,
            ),
            data.PATIENT_EMAIL_DOMAIN,
        )
    return Patient(
        birth_name=identity.birth_name,
        first_birth_given_name=identity.first_birth_given_name,
        birth_given_names=identity.birth_given_names,
        birth_date=identity.birth_date,
        sex=identity.sex,
        birthplace_code=identity.birthplace_code,
        used_name=identity.used_name,
        used_given_name=identity.used_given_name,
        ins_matricule=identity.matricule,
        ins_kind=identity.ins_kind,
        retrieved_from_insi=identity.facts.retrieved_from_insi,
        identity_document=identity.facts.identity_document,
        commune=commune,
        address_line=gen.street_address(rng),
        phone=gen.fictitious_phone(rng, mobile=age < 75 or rng.random() < 0.4),
        email=email,
        treating_doctor=gp,
    )


def _mark_doubtful(rng: random.Random, planned: list[_PlannedPatient]) -> None:
    """A couple of identities raised a doubt at the desk: they stay provisional."""
    for entry in rng.sample(planned[1:], data.DOUBTFUL_COUNT):
        entry.patient.doubtful = True


def _add_telemonitoring(
    rng: random.Random, planned: list[_PlannedPatient]
) -> list[_PlannedPatient]:
    """Older patients of the Cher whose heart or diabetes the Bourges team watches."""
    candidates = [
        i
        for i, entry in enumerate(planned[1:], start=1)
        if entry.patient.commune is not None
        and entry.patient.commune.departement == "18"
        and gen.age_on_reference(entry.patient.birth_date) >= 55
    ]
    chosen = set(rng.sample(candidates, data.TELEMONITORED_COUNT))
    return [
        _PlannedPatient(entry.key, entry.patient, (*entry.followed_by, "ch-bourges"))
        if i in chosen
        else entry
        for i, entry in enumerate(planned)
    ]


def _ensure_patients(
    communes: dict[str, Commune],
    structures: dict[str, Structure],
    professionals: dict[ProfessionalKey, Professional],
    users: dict[str, User],
    report: LoadReport,
) -> None:
    planned = _plan_patients(communes, professionals)
    for entry in planned:
        p = entry.patient
        p.uuid = gen.stable_uuid("patient", entry.key)
        # bulk_create skips Patient.save, which computes the key.
        p.match_key = identity_match_key(p.birth_name, p.first_birth_given_name, p.birth_date)
    by_uuid, created = _ensure(Patient, [e.patient for e in planned], "uuid")
    report.created["patients"] += created
    patients = [by_uuid[e.patient.uuid] for e in planned]
    report.created["followed by"] += _ensure_links(
        Patient.followed_by.through,
        "patient_id",
        "structure_id",
        [
            (patient.pk, structures[key].pk)
            for patient, entry in zip(patients, planned, strict=True)
            for key in entry.followed_by
        ],
    )
    demo_patient = patients[0]
    if demo_patient.user_id is None:
        demo_patient.user = users["patient"]
        demo_patient.save(update_fields=["user"])
    report.patients_by_status.update(p.identity_status.value for p in patients)
    report.totals["patients"] = len(patients)
    report.totals["telemonitored"] = sum("ch-bourges" in e.followed_by for e in planned)
