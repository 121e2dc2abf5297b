"""Small builders for tests (and nothing else): valid identifiers, structures, people.

They call the models directly because they set up the world a test starts
from; the behaviour under test always goes through actions and the gate.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from maillage.accounts.models import Role, User
from maillage.directory.models import Practice, Professional, Structure, StructureKind
from maillage.directory.terminology import Profession, Specialty
from maillage.lib.identifiers import luhn_check_digit
from maillage.lib.ins import matricule_key
from maillage.patients.models import Patient
from maillage.territory.loader import load_communes
from maillage.territory.models import Commune

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def ensure_communes() -> None:
    """Communes come by migration, but transactional tests empty every table."""
    if not Commune.objects.exists():
        load_communes(Commune)


def ensure_habilitations() -> None:
    """The default matrix comes by migration too; transactional tests empty it."""
    from maillage.records.habilitations import default_rows
    from maillage.records.models import HabilitationRule

    if not HabilitationRule.objects.exists():
        HabilitationRule.objects.bulk_create(
            [
                HabilitationRule(role=r, document_type=t, can_read=read, can_write=write)
                for r, t, read, write in default_rows()
            ]
        )


def ensure_expertise_data() -> None:
    """Tele-expertise priorities and tariffs come by migration; transactional tests empty them."""
    from maillage.expertise.defaults import ensure
    from maillage.expertise.models import Priority, Tariff

    ensure(Priority, Tariff)


def pool(name: str, specialty: str, members: tuple[Any, ...], **kw: Any) -> Any:
    """A tele-expertise pool of directory entries (``(entry, True)`` for a coordinator)."""
    from maillage.expertise.models import Pool, PoolKind, PoolMember

    created = Pool.objects.create(
        name=name, specialty=specialty, kind=kw.pop("kind", PoolKind.SPECIALTY), **kw
    )
    for member in members:
        entry, coordinates = member if isinstance(member, tuple) else (member, False)
        PoolMember.objects.create(pool=created, professional=entry, is_coordinator=coordinates)
    return created


def commune(insee_code: str) -> Commune:
    ensure_communes()
    return Commune.objects.get(insee_code=insee_code)


def rpps(n: int | None = None) -> str:
    payload = f"10{(n if n is not None else next(_counter)) % 10**8:08d}"
    return payload + luhn_check_digit(payload)


def matricule(sex: str, birth_date: dt.date, place: str = "18242", order: int | None = None) -> str:
    body = (
        f"{1 if sex == 'M' else 2}{birth_date.year % 100:02d}{birth_date.month:02d}"
        f"{place}{(order if order is not None else next(_counter) % 999 + 1):03d}"
    )
    return body + matricule_key(body)


def structure(
    name: str, kind: str = StructureKind.MSP, insee_code: str = "18242", **kw: Any
) -> Structure:
    return Structure.objects.create(name=name, kind=kind, commune=commune(insee_code), **kw)


def user(username: str, role: str, **kw: Any) -> User:
    u = User.objects.create_user(username=username, password=PASSWORD, role=role, **kw)
    return u


def professional(
    username: str | None,
    *,
    last_name: str,
    first_name: str = "Camille",
    profession: str = Profession.DOCTOR,
    specialty: str = "",
    structures: tuple[Structure, ...] = (),
    role: str | None = None,
    **kw: Any,
) -> Professional:
    account = None
    if username:
        default_role = {
            Profession.DOCTOR: Role.DOCTOR,
            Profession.NURSE: Role.NURSE,
            Profession.MIDWIFE: Role.MIDWIFE,
            Profession.PHYSIOTHERAPIST: Role.REHABILITATION,
            Profession.SPEECH_THERAPIST: Role.REHABILITATION,
            Profession.ORTHOPTIST: Role.REHABILITATION,
            Profession.PHARMACIST: Role.PHARMACIST,
        }.get(Profession(profession), Role.DOCTOR)
        account = user(username, role or default_role, first_name=first_name, last_name=last_name)
    pro = Professional.objects.create(
        rpps=rpps(),
        last_name=last_name,
        first_name=first_name,
        profession=profession,
        specialty=specialty,
        user=account,
        **kw,
    )
    for s in structures:
        Practice.objects.create(professional=pro, structure=s)
    return pro


def patient(
    birth_name: str = "GIRARD",
    first_name: str = "Micheline",
    birth_date: dt.date = dt.date(1948, 3, 14),
    sex: str = "F",
    *,
    followed_by: tuple[Structure, ...] = (),
    with_matricule: bool = True,
    **kw: Any,
) -> Patient:
    p = Patient.objects.create(
        birth_name=birth_name,
        first_birth_given_name=first_name,
        birth_given_names=kw.pop("birth_given_names", first_name),
        birth_date=birth_date,
        sex=sex,
        ins_matricule=matricule(sex, birth_date) if with_matricule else None,
        **kw,
    )
    p.followed_by.set(followed_by)
    return p


__all__ = ["PASSWORD", "Specialty"]


def page_text(response: Any) -> str:
    """A response's HTML with entities decoded, for asserting on French text."""
    import html

    return html.unescape(response.content.decode())
