"""Maillage accounts for the professionals of the directory: authors and correspondents.

Documents name a user as their author and messages go between users, so the
doctors, nurses and pharmacists of the directory get an account each (the
roles that hold an RPPS number in Maillage). The other professions keep only
their MSSanté address: a message to them leaves Maillage by SMTP, which the
messaging fixture uses for its outside participants.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from bench.directory_data import BATCH, Directory
from maillage.accounts.models import Role, User
from maillage.directory.models import Professional
from maillage.directory.terminology import GENERAL_PRACTICE, Profession

ROLE_OF_PROFESSION: dict[str, str] = {
    Profession.DOCTOR: Role.DOCTOR,
    Profession.NURSE: Role.NURSE,
    Profession.PHARMACIST: Role.PHARMACIST,
}
# What someone is to the fixtures: which documents they write, whom they write to.
GP, SPECIALIST, NURSE, PHARMACIST, OUTSIDE = "gp", "specialist", "nurse", "pharmacist", "outside"


@dataclass(frozen=True)
class Person:
    """A professional as a document or a message names them."""

    professional_id: int
    # None for a professional without a Maillage account (reached by SMTP).
    user_id: int | None
    label: str
    address: str
    kind: str


def account(person: Person) -> int:
    """The user behind someone who writes documents or starts threads: they have one."""
    assert person.user_id is not None, person
    return person.user_id


@dataclass
class People:
    bench: Person
    # The other GPs of the bench doctor's health house.
    colleagues: list[Person]
    by_kind: dict[str, list[Person]] = field(default_factory=dict)
    by_professional: dict[int, Person] = field(default_factory=dict)

    @property
    def accounts(self) -> int:
        return sum(1 for p in self.by_professional.values() if p.user_id is not None)


def _kind(professional: Professional) -> str:
    if professional.profession == Profession.DOCTOR:
        return GP if professional.specialty in GENERAL_PRACTICE else SPECIALIST
    if professional.profession == Profession.NURSE:
        return NURSE
    if professional.profession == Profession.PHARMACIST:
        return PHARMACIST
    return OUTSIDE


def build_accounts(directory: Directory, bench_user: User) -> People:
    """An account for every doctor, nurse and pharmacist but the bench doctor (made already)."""
    bench_professional = directory.home_gps[0]
    with_account = [
        p
        for p in directory.professionals
        if p.profession in ROLE_OF_PROFESSION and p.pk != bench_professional.pk
    ]
    users = []
    for professional in with_account:
        user = User(
            username=f"pro.{professional.rpps}",
            role=ROLE_OF_PROFESSION[professional.profession],
            first_name=professional.first_name,
            last_name=professional.last_name,
        )
        user.set_unusable_password()
        users.append(user)
    User.objects.bulk_create(users, batch_size=BATCH)
    for professional, user in zip(with_account, users, strict=True):
        professional.user = user
    Professional.objects.bulk_update(with_account, ["user"], batch_size=BATCH)

    by_kind: dict[str, list[Person]] = defaultdict(list)
    by_professional: dict[int, Person] = {}
    for professional in directory.professionals:
        user_id = (
            bench_user.pk if professional.pk == bench_professional.pk else professional.user_id
        )
        person = Person(
            professional_id=professional.pk,
            user_id=user_id,
            label=professional.display_name,
            address=professional.secure_messaging_address,
            kind=_kind(professional),
        )
        by_professional[professional.pk] = person
        if professional.pk != bench_professional.pk:
            by_kind[person.kind].append(person)
    return People(
        bench=by_professional[bench_professional.pk],
        colleagues=[by_professional[p.pk] for p in directory.home_gps[1:]],
        by_kind=dict(by_kind),
        by_professional=by_professional,
    )
