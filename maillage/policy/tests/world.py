"""Small generated worlds for the policy's property test: a plain spec, then rows.

The spec is plain data (who works where, who follows whom, what the patient
decided, which documents exist) that the reference model in
``test_policy_property`` reads; ``build`` writes the same world as rows, the
way the factories do, for the policy to decide on. Nothing here decides.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone
from hypothesis import strategies as st

from maillage.accounts.models import Role, User
from maillage.directory.models import Professional, Structure, StructureKind
from maillage.directory.terminology import Profession, Specialty
from maillage.expertise.models import Pool, PoolMember, Priority, Request, Status
from maillage.files import storage
from maillage.files.models import StoredFile
from maillage.messaging.models import Attachment, Message, Participant, Thread
from maillage.patients.models import Patient
from maillage.records.models import (
    BreakGlassAccess,
    CareTeamMember,
    CareTeamReason,
    Consent,
    ConsentKind,
    Document,
    DocumentFile,
    DocumentStatus,
    DocumentType,
    HabilitationRule,
)
from maillage.regulation.models import RegulationCase
from maillage.testing import factories as f

# The cast: every world has the same people; what ties them to the patients varies.
# Professionals hold a directory entry (RPPS); staff hold posts in structures.
PROFESSIONALS: dict[str, tuple[str, str]] = {
    "gp": (Role.DOCTOR, Profession.DOCTOR),
    "cardio": (Role.DOCTOR, Profession.DOCTOR),
    "nurse": (Role.NURSE, Profession.NURSE),
    "pharma": (Role.PHARMACIST, Profession.PHARMACIST),
}
STAFF: dict[str, str] = {
    "coord": Role.COORDINATOR,
    "social": Role.SOCIAL_WORKER,
    "telemon": Role.TELEMONITORING,
    "analyst": Role.ANALYST,
    "admin": Role.ADMIN,
}
# The regulator is a doctor with a directory entry in some worlds, staff in others.
REGULATOR = "regulator"
PATIENT_USERS = ("patient0", "patient1")
WORKERS = (*PROFESSIONALS, *STAFF, REGULATOR)
CAST = (*WORKERS, *PATIENT_USERS)
STRUCTURES = ("A", "B")
# Who may hold an emergency opening or a regulation case row: the roles that
# may and some that may not (the table must then give them nothing).
OPENERS = ("gp", "cardio", "nurse", "pharma", "coord", REGULATOR)
AUTHORS = ("gp", "cardio", "nurse", "pharma")
TYPES = (
    DocumentType.TELECONSULTATION_REPORT,
    DocumentType.PRESCRIPTION,
    DocumentType.LAB_RESULTS,
    DocumentType.LIAISON_LETTER,
    DocumentType.PHOTO,
)
MATRIX_ROLES = (
    Role.DOCTOR,
    Role.NURSE,
    Role.PHARMACIST,
    Role.REGULATOR,
    Role.COORDINATOR,
    Role.SOCIAL_WORKER,
)
CARE_TEAM_KINDS = ("named", "act", "act_expired", "ended")
CASE_STATES = ("open", "expired", "closed")
# Tele-expertise: asked by the GP or the nurse, to the cardiologist by name or
# to a pool of two doctors (who of them answers tele-expertise is drawn: the
# directory's flag), in one of these states. "_long_ago" ends beyond
# MAILLAGE_EXPERTISE_ACCESS_DAYS; the others ended within it.
REQUESTERS = ("gp", "nurse")
NAMED_SPECIALIST = "cardio"
POOL_MEMBERS = ("cardio", "gp")
EXPERTISE_STATES = (
    "draft",
    "waiting",
    "claimed",
    "on_hold",
    "concluded",
    "concluded_long_ago",
    "cancelled",
    "cancelled_long_ago",
    # A draft the requester dropped: cancelled, never sent.
    "dropped",
)
# Never sent: the requester's alone.
UNSENT = ("draft", "dropped")


def role_of(world: World, who: str) -> str:
    if who in PROFESSIONALS:
        return PROFESSIONALS[who][0]
    if who in STAFF:
        return STAFF[who]
    if who == REGULATOR:
        return Role.REGULATOR
    return Role.PATIENT


def has_directory_entry(world: World, who: str) -> bool:
    return who in PROFESSIONALS or (who == REGULATOR and world.regulator_is_professional)


@dataclass(frozen=True)
class DocSpec:
    type: str
    author: str
    status: str
    hidden_from_patient: bool


@dataclass(frozen=True)
class PatientSpec:
    treating_doctor: str | None
    followed_by: frozenset[str]
    documents: tuple[DocSpec, ...]
    # Sharing statements in time order (the latest is last); written to the
    # database in ``sharing_rows`` order, so that row order is not time order.
    sharing: tuple[bool, ...]
    sharing_rows: tuple[int, ...]
    # (professional, withdrawn)
    oppositions: tuple[tuple[str, bool], ...]
    # one opposition to emergency access per item: withdrawn or not
    emergency: tuple[bool, ...]
    # (index of one of her documents, withdrawn)
    masks: tuple[tuple[int, bool], ...]


@dataclass(frozen=True)
class ExpertiseSpec:
    patient: int
    requester: str
    # To the pool (POOL_MEMBERS), else to the named specialist.
    pool: bool
    state: str
    # Who took a pool request (None: nobody did; a waiting or draft one, or
    # one cancelled while waiting). A named request's specialist is set from
    # the start.
    claimant: str | None
    # Indexes of the patient's documents shared with the request.
    documents: tuple[int, ...] = ()

    @property
    def assignee(self) -> str | None:
        return self.claimant if self.pool else NAMED_SPECIALIST

    @property
    def took_place(self) -> bool:
        """The specialist took it: the act's care-team place was made (and maybe ended)."""
        return self.assignee is not None and self.state not in (*UNSENT, "waiting")


@dataclass(frozen=True)
class World:
    places: tuple[tuple[str, frozenset[str]], ...]
    regulator_is_professional: bool
    patients: tuple[PatientSpec, ...]
    # (patient, professional, kind)
    care_team: tuple[tuple[int, str, str], ...]
    # (user, patient, active)
    break_glass: tuple[tuple[str, int, bool], ...]
    # (user, patient, state)
    regulation: tuple[tuple[str, int, str], ...]
    # (role, type) pairs the habilitation matrix lets read
    readable: frozenset[tuple[str, str]]
    expertise: tuple[ExpertiseSpec, ...] = ()
    # Pool members who answer tele-expertise (the directory's flag).
    answering: frozenset[str] = frozenset()

    def structures_of(self, who: str) -> frozenset[str]:
        return dict(self.places).get(who, frozenset())


_structures = st.frozensets(st.sampled_from(STRUCTURES))


@st.composite
def patient_specs(draw: st.DrawFn) -> PatientSpec:
    documents = tuple(
        draw(
            st.lists(
                st.builds(
                    DocSpec,
                    type=st.sampled_from(TYPES),
                    author=st.sampled_from(AUTHORS),
                    status=st.sampled_from(
                        [DocumentStatus.CURRENT, DocumentStatus.WITHDRAWN, DocumentStatus.REPLACED]
                    ),
                    hidden_from_patient=st.booleans(),
                ),
                max_size=3,
            )
        )
    )
    sharing = tuple(draw(st.lists(st.booleans(), max_size=3)))
    masks: tuple[tuple[int, bool], ...] = ()
    if documents:
        masks = tuple(
            draw(st.lists(st.tuples(st.integers(0, len(documents) - 1), st.booleans()), max_size=2))
        )
    return PatientSpec(
        treating_doctor=draw(st.sampled_from([None, "gp", "cardio"])),
        followed_by=draw(_structures),
        documents=documents,
        sharing=sharing,
        sharing_rows=tuple(draw(st.permutations(range(len(sharing))))),
        oppositions=tuple(
            draw(
                st.lists(
                    st.tuples(st.sampled_from([*PROFESSIONALS, REGULATOR]), st.booleans()),
                    max_size=2,
                )
            )
        ),
        emergency=tuple(draw(st.lists(st.booleans(), max_size=2))),
        masks=masks,
    )


@st.composite
def expertise_specs(draw: st.DrawFn, patients: tuple[PatientSpec, ...]) -> ExpertiseSpec:
    p = draw(st.integers(0, len(patients) - 1))
    state = draw(st.sampled_from(EXPERTISE_STATES))
    pool = draw(st.booleans())
    claimant = None
    if pool and state not in (*UNSENT, "waiting"):
        untaken = [None] if state.startswith("cancelled") else []
        claimant = draw(st.sampled_from([*POOL_MEMBERS, *untaken]))
    count = len(patients[p].documents)
    shared = draw(st.sets(st.integers(0, count - 1))) if count else set()
    return ExpertiseSpec(
        patient=p,
        requester=draw(st.sampled_from(REQUESTERS)),
        pool=pool,
        state=state,
        claimant=claimant,
        documents=tuple(sorted(shared)),
    )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    patients = tuple(draw(st.lists(patient_specs(), min_size=1, max_size=2)))
    patient_index = st.integers(0, len(patients) - 1)
    return World(
        places=tuple((who, draw(_structures)) for who in WORKERS),
        regulator_is_professional=draw(st.booleans()),
        patients=patients,
        care_team=tuple(
            draw(
                st.lists(
                    st.tuples(
                        patient_index,
                        st.sampled_from(list(PROFESSIONALS)),
                        st.sampled_from(CARE_TEAM_KINDS),
                    ),
                    max_size=3,
                )
            )
        ),
        break_glass=tuple(
            draw(
                st.lists(
                    st.tuples(st.sampled_from(OPENERS), patient_index, st.booleans()), max_size=2
                )
            )
        ),
        regulation=tuple(
            draw(
                st.lists(
                    st.tuples(
                        st.sampled_from([REGULATOR, "cardio"]),
                        patient_index,
                        st.sampled_from(CASE_STATES),
                    ),
                    max_size=2,
                )
            )
        ),
        readable=draw(
            st.frozensets(st.sampled_from([(r, str(t)) for r in MATRIX_ROLES for t in TYPES]))
        ),
        expertise=tuple(draw(st.lists(expertise_specs(patients), max_size=2))),
        answering=draw(st.frozensets(st.sampled_from(POOL_MEMBERS))),
    )


# --- Rows --------------------------------------------------------------------------


@dataclass
class Built:
    """The rows of one world, by the spec's names and indexes."""

    users: dict[str, User]
    patients: list[Patient]
    # documents[p][i] is the i-th document of patient p
    documents: list[list[Document]]
    threads: list[Thread] = field(default_factory=list)
    # attachments[p][i] carries documents[p][i]
    attachments: list[list[Attachment]] = field(default_factory=list)
    # requests[k] is world.expertise[k]
    requests: list[Request] = field(default_factory=list)


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nCompte rendu\n%%EOF"


def _stored_file(by: User, sealed: bool) -> StoredFile:
    if sealed:
        return storage.store(PDF, "cr.pdf", by=by)
    # Metadata only, when no check reads the bytes: sealing would only slow
    # every example down.
    return StoredFile.objects.create(
        original_name="cr.pdf",
        mime="application/pdf",
        size=10,
        sha256="0" * 64,
        key_id="test",
        created_by=by,
    )


def build(world: World, *, sealed: bool = False) -> Built:
    """The world as rows; ``sealed`` stores real files (for the download URLs)."""
    now = timezone.now()
    soon, gone = now + dt.timedelta(hours=1), now - dt.timedelta(hours=1)
    f.ensure_communes()
    structures = {
        name: f.structure(f"Structure {name}", StructureKind.MSP, "18242") for name in STRUCTURES
    }
    users: dict[str, User] = {}
    professionals: dict[str, Professional] = {}

    def posts(who: str) -> tuple[Structure, ...]:
        return tuple(structures[s] for s in sorted(world.structures_of(who)))

    for who, (role, profession) in PROFESSIONALS.items():
        answers = who in world.answering
        professionals[who] = f.professional(
            who,
            last_name=who.upper(),
            profession=profession,
            role=role,
            structures=posts(who),
            accepts_teleexpertise=answers,
            teleexpertise_response_hours=48 if answers else None,
        )
    if world.regulator_is_professional:
        professionals[REGULATOR] = f.professional(
            REGULATOR,
            last_name="REGUL",
            profession=Profession.DOCTOR,
            role=Role.REGULATOR,
            structures=posts(REGULATOR),
        )
    for who, pro in professionals.items():
        assert pro.user is not None
        users[who] = pro.user
    staff = dict(STAFF)
    if not world.regulator_is_professional:
        staff[REGULATOR] = Role.REGULATOR
    for who, role in staff.items():
        users[who] = f.user(who, role)
        users[who].structures.set(posts(who))
    HabilitationRule.objects.all().delete()
    HabilitationRule.objects.bulk_create(
        [HabilitationRule(role=r, document_type=t, can_read=True) for r, t in world.readable]
    )

    patients: list[Patient] = []
    documents: list[list[Document]] = []
    for index, spec in enumerate(world.patients):
        account = f.user(PATIENT_USERS[index], Role.PATIENT)
        users[PATIENT_USERS[index]] = account
        patient = f.patient(
            ["MARTIN", "BERNARD"][index],
            ["Jeanne", "Louise"][index],
            dt.date(1950 + index, 1, 2),
            followed_by=tuple(structures[s] for s in sorted(spec.followed_by)),
            treating_doctor=professionals[spec.treating_doctor] if spec.treating_doctor else None,
            user=account,
        )
        patients.append(patient)
        mine = []
        for position, doc in enumerate(spec.documents):
            author = users[doc.author]
            made = Document.objects.create(
                patient=patient,
                type=doc.type,
                title=f"Document {index}.{position}",
                date=dt.date(2026, 11, 1 + position),
                author=author,
                author_label=author.username,
                status=doc.status,
                withdrawn_at=gone if doc.status == DocumentStatus.WITHDRAWN else None,
                hidden_from_patient=doc.hidden_from_patient,
            )
            DocumentFile.objects.create(document=made, file=_stored_file(author, sealed))
            mine.append(made)
        documents.append(mine)
        _consents(spec, patient, account, professionals, mine, now)

    for p, who, kind in world.care_team:
        CareTeamMember.objects.create(
            patient=patients[p],
            professional=professionals[who],
            reason=CareTeamReason.NAMED_BY_PATIENT if kind == "named" else CareTeamReason.ACT,
            valid_until={"act": soon, "act_expired": gone}.get(kind),
            ended_at=gone if kind == "ended" else None,
        )
    for who, p, active in world.break_glass:
        BreakGlassAccess.objects.create(
            patient=patients[p],
            user=users[who],
            reason="Malaise, patiente inconsciente",
            started_at=now - dt.timedelta(hours=2),
            expires_at=soon if active else gone,
        )
    for who, p, state in world.regulation:
        RegulationCase.objects.create(
            patient=patients[p],
            regulator=users[who],
            reason="Appel du 15",
            opened_at=now - dt.timedelta(hours=2),
            expires_at=gone if state == "expired" else soon,
            closed_at=gone if state == "closed" else None,
        )
    built = Built(users, patients, documents)
    _threads(built)
    _expertise(world, built, professionals, now)
    return built


def _expertise(
    world: World, built: Built, professionals: dict[str, Professional], now: dt.datetime
) -> None:
    """The requests as the actions leave them at each stage, with the act's care-team place."""
    if not world.expertise:
        return
    f.ensure_expertise_data()
    priority = Priority.objects.get(code="soon")
    pool = Pool.objects.create(name="Cardiologie", kind="specialty", specialty=Specialty.CARDIOLOGY)
    PoolMember.objects.bulk_create(
        [PoolMember(pool=pool, professional=professionals[who]) for who in POOL_MEMBERS]
    )
    limit = dt.timedelta(days=float(settings.MAILLAGE_EXPERTISE_ACCESS_DAYS))
    asked = now - limit - dt.timedelta(days=5)
    ended = {
        "concluded": now - dt.timedelta(days=2),
        "concluded_long_ago": now - limit - dt.timedelta(days=2),
        "cancelled": now - dt.timedelta(hours=1),
        "cancelled_long_ago": now - limit - dt.timedelta(days=2),
        "dropped": now - dt.timedelta(hours=1),
    }
    status = {
        "draft": Status.DRAFT,
        "waiting": Status.WAITING,
        "claimed": Status.CLAIMED,
        "on_hold": Status.ON_HOLD,
        "concluded": Status.CONCLUDED,
        "concluded_long_ago": Status.CONCLUDED,
        "cancelled": Status.CANCELLED,
        "cancelled_long_ago": Status.CANCELLED,
        "dropped": Status.CANCELLED,
    }
    for spec in world.expertise:
        end = ended.get(spec.state)
        requester = built.users[spec.requester]
        assignee = professionals[spec.assignee] if spec.assignee else None
        sent = spec.state not in UNSENT
        request = Request.objects.create(
            patient=built.patients[spec.patient],
            requester=requester,
            requester_professional=professionals[spec.requester],
            pool=pool if spec.pool else None,
            assignee=assignee,
            specialty=Specialty.CARDIOLOGY if sent else "",
            question="Souffle systolique, échographie ?",
            priority=priority,
            consent_recorded_by=requester,
            consent_recorded_at=asked,
            status=status[spec.state],
            created_at=asked,
            submitted_at=asked if sent else None,
            due_at=asked + dt.timedelta(hours=priority.hours) if sent else None,
            claimed_at=asked if spec.took_place else None,
            concluded_at=end if spec.state.startswith("concluded") else None,
            cancelled_at=end if status[spec.state] == Status.CANCELLED else None,
            hold_started_at=now if spec.state == "on_hold" else None,
        )
        request.documents.set([built.documents[spec.patient][i] for i in spec.documents])
        if spec.took_place and assignee is not None:
            # As the claim made it; the conclusion limited it, a cancellation ended it.
            if spec.state.startswith("concluded") and end is not None:
                until: dt.datetime | None = end + limit
            else:
                until = end
            request.care_team_place = CareTeamMember.objects.create(
                patient=request.patient,
                professional=assignee,
                reason=CareTeamReason.ACT,
                valid_until=until,
                added_by=built.users[spec.assignee or ""],
            )
            request.save(update_fields=["care_team_place"])
        built.requests.append(request)


def _consents(
    spec: PatientSpec,
    patient: Patient,
    account: User,
    professionals: dict[str, Professional],
    documents: list[Document],
    now: Any,
) -> None:
    start = now - dt.timedelta(days=1)
    # Rows written out of time order: "the latest wins" must go by time, not by id.
    for position in spec.sharing_rows:
        Consent.objects.create(
            patient=patient,
            kind=ConsentKind.SHARING,
            granted=spec.sharing[position],
            recorded_at=start + dt.timedelta(minutes=position),
            recorded_by=account,
        )
    withdrawn = now - dt.timedelta(minutes=5)
    for who, was_withdrawn in spec.oppositions:
        if who not in professionals:
            continue  # a staff regulator has no directory entry to oppose
        Consent.objects.create(
            patient=patient,
            kind=ConsentKind.OPPOSE_PROFESSIONAL,
            professional=professionals[who],
            recorded_at=start,
            recorded_by=account,
            withdrawn_at=withdrawn if was_withdrawn else None,
        )
    for was_withdrawn in spec.emergency:
        Consent.objects.create(
            patient=patient,
            kind=ConsentKind.OPPOSE_EMERGENCY,
            recorded_at=start,
            recorded_by=account,
            withdrawn_at=withdrawn if was_withdrawn else None,
        )
    for index, was_withdrawn in spec.masks:
        Consent.objects.create(
            patient=patient,
            kind=ConsentKind.MASK_DOCUMENT,
            document=documents[index],
            recorded_at=start,
            recorded_by=account,
            withdrawn_at=withdrawn if was_withdrawn else None,
        )


def _threads(built: Built) -> None:
    """One thread per patient, everyone in it, one message carrying each of her documents."""
    sender = built.users["gp"]
    for patient, documents in zip(built.patients, built.documents, strict=True):
        thread = Thread.objects.create(subject="Suivi", patient=patient, created_by=sender)
        Participant.objects.bulk_create(
            [Participant(thread=thread, user=u, label=u.username) for u in built.users.values()]
        )
        message = Message.objects.create(
            thread=thread, sender=sender, sender_label=sender.username, body="Pour avis"
        )
        built.threads.append(thread)
        built.attachments.append(
            [
                Attachment.objects.create(
                    message=message,
                    file=document.document_files.get().file,
                    source_document=document,
                    position=position,
                )
                for position, document in enumerate(documents)
            ]
        )
