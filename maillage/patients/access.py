"""The one gate in front of patient data.

Every view, FHIR handler, command or task that reads or writes a patient goes
through a function of this module. It decides from the user's role and their
relation to the patient, using the policy table below (data, not branches),
and appends an audit entry whatever the answer. A refusal looks like "not
found" so that it reveals nothing.

Relations are computed two ways that must agree: in Python for given patients
(``relations_to``) and as a query for lists (``_relation_q``); the tests check
both against the same personas.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.accounts.models import Role
from maillage.audit.actions import Event, record, record_many
from maillage.audit.models import Action, Outcome
from maillage.directory.queries import structures_of
from maillage.patients.models import Patient

if TYPE_CHECKING:
    from maillage.accounts.models import User


class Relation(enum.StrEnum):
    SELF = "self"
    TREATING_DOCTOR = "treating_doctor"
    CARE_STRUCTURE = "care_structure"
    # The regulator orients requests from anyone in the territory.
    TERRITORY = "territory"
    # The user typed every strict trait (or the matricule) of this person.
    IDENTITY_VIGILANCE = "identity_vigilance"
    # Creating a record makes no relation yet; the creator's role suffices.
    CREATOR = "creator"
    # Named by the patient, or involved in an act while it lasts (records app).
    CARE_TEAM = "care_team"
    # An emergency opening, time-limited, flagged and reviewed (records app).
    BREAK_GLASS = "break_glass"


RELATION_LABELS = {
    Relation.SELF: _("the patient"),
    Relation.TREATING_DOCTOR: _("médecin traitant"),
    Relation.CARE_STRUCTURE: _("structure following the patient"),
    Relation.TERRITORY: _("regulation of unscheduled care"),
    Relation.IDENTITY_VIGILANCE: _("identity vigilance"),
    Relation.CREATOR: _("creation of the record"),
    Relation.CARE_TEAM: _("care team"),
    Relation.BREAK_GLASS: _("emergency access (break-the-glass)"),
}

_FOLLOWERS = frozenset({Relation.TREATING_DOCTOR, Relation.CARE_STRUCTURE})
_STRUCTURE = frozenset({Relation.CARE_STRUCTURE})
_VIGILANCE = frozenset({Relation.IDENTITY_VIGILANCE})
_CARE = frozenset({Relation.CARE_TEAM, Relation.BREAK_GLASS})
# The shared record: the médecin traitant and the care team (CSP L.1111-17),
# an emergency opening, or the regulator. Consents are applied on top, in
# maillage.records.access.
_RECORD_DOCTOR = frozenset({Relation.TREATING_DOCTOR, *_CARE})

# Who may do what, by which relation. A role absent from a purpose may not.
# The administrator manages accounts and never reads patient data; the
# analyst sees aggregates only.
POLICY: Mapping[str, Mapping[str, frozenset[Relation]]] = {
    Action.PATIENT_READ: {
        Role.PATIENT: frozenset({Relation.SELF}),
        Role.DOCTOR: _FOLLOWERS | _CARE,
        Role.NURSE: _STRUCTURE | _CARE,
        Role.PHARMACIST: _STRUCTURE | _CARE,
        Role.COORDINATOR: _STRUCTURE,
        Role.TELEMONITORING: _STRUCTURE,
        Role.SOCIAL_WORKER: _STRUCTURE,
        Role.REGULATOR: frozenset({Relation.TERRITORY}),
    },
    Action.PATIENT_UPDATE: {
        Role.DOCTOR: _FOLLOWERS,
        Role.NURSE: _STRUCTURE,
        Role.PHARMACIST: _STRUCTURE,
        Role.COORDINATOR: _STRUCTURE,
    },
    Action.PATIENT_LINK: {
        Role.DOCTOR: _VIGILANCE,
        Role.NURSE: _VIGILANCE,
        Role.PHARMACIST: _VIGILANCE,
        Role.COORDINATOR: _VIGILANCE,
    },
    Action.DUPLICATE_REVIEW: {
        Role.DOCTOR: _VIGILANCE,
        Role.NURSE: _VIGILANCE,
        Role.PHARMACIST: _VIGILANCE,
        Role.COORDINATOR: _VIGILANCE,
        Role.REGULATOR: _VIGILANCE,
    },
    Action.ACCESS_LOG_READ: {
        Role.PATIENT: frozenset({Relation.SELF}),
    },
    Action.RECORD_READ: {
        Role.PATIENT: frozenset({Relation.SELF}),
        Role.DOCTOR: _RECORD_DOCTOR,
        Role.NURSE: _CARE,
        Role.PHARMACIST: _CARE,
        Role.REGULATOR: frozenset({Relation.TERRITORY}),
    },
    # Writing needs a real place in the care team, not an emergency opening.
    Action.DOCUMENT_CREATE: {
        Role.DOCTOR: frozenset({Relation.TREATING_DOCTOR, Relation.CARE_TEAM}),
        Role.NURSE: frozenset({Relation.CARE_TEAM}),
        Role.PHARMACIST: frozenset({Relation.CARE_TEAM}),
    },
    # Deciding on the record's consents, and reading them, is the patient's own:
    # professionals meet their effect, not their list.
    Action.CONSENT_CHANGE: {
        Role.PATIENT: frozenset({Relation.SELF}),
    },
    Action.CONSENT_READ: {
        Role.PATIENT: frozenset({Relation.SELF}),
    },
}
# Listing a patient in search results needs what reading them needs; a
# patient has nobody to search for.
POLICY = {
    **POLICY,
    Action.PATIENT_SEARCH: {
        role: relations
        for role, relations in POLICY[Action.PATIENT_READ].items()
        if role != Role.PATIENT
    },
}

# Reading a document needs what opening the record needs (the document gate adds
# masks, habilitations and the author's visibility on top); changing the record
# or bringing someone into the care team for an act needs what writing needs.
POLICY = {
    **POLICY,
    Action.DOCUMENT_READ: POLICY[Action.RECORD_READ],
    Action.DOCUMENT_REPLACE: POLICY[Action.DOCUMENT_CREATE],
    Action.DOCUMENT_WITHDRAW: POLICY[Action.DOCUMENT_CREATE],
    Action.CARE_TEAM_CHANGE: POLICY[Action.DOCUMENT_CREATE],
}

PATIENT_CREATORS = frozenset(
    {Role.DOCTOR, Role.NURSE, Role.PHARMACIST, Role.COORDINATOR, Role.REGULATOR}
)


class PatientNotFound(Http404):
    """Raised for a missing patient and for a refused one alike."""


class NotAllowed(Exception):
    """The user's role may not do this at all (no patient involved)."""


@dataclass(frozen=True)
class IdentityEvidence:
    """What a user typed that identifies one person: strict traits or matricule."""

    match_key: str
    matricule: str | None = None

    def identifies(self, patient: Patient) -> bool:
        same_matricule = bool(self.matricule) and patient.ins_matricule == self.matricule
        return same_matricule or patient.match_key == self.match_key


def allowed_relations(user: User, purpose: str) -> frozenset[Relation]:
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    return POLICY.get(purpose, {}).get(user.role, frozenset())


def relations_to(
    user: User,
    patients: Iterable[Patient],
    wanted: frozenset[Relation],
    evidence: IdentityEvidence | None = None,
) -> dict[int, Relation]:
    """For each patient, the first wanted relation the user has with them."""
    patients = list(patients)
    structure_links: set[tuple[int, int]] = set()
    if Relation.CARE_STRUCTURE in wanted and patients:
        through = Patient.followed_by.through
        structure_links = set(
            through.objects.filter(
                patient_id__in=[p.pk for p in patients],
                structure__in=structures_of(user),
            ).values_list("patient_id", "structure_id")
        )
    followed = {patient_id for patient_id, _ in structure_links}
    professional_id = professional_id_of(user) if Relation.TREATING_DOCTOR in wanted else None
    ids = [p.pk for p in patients]
    in_care_team = (
        set(_care_team_places(user).filter(patient_id__in=ids).values_list("patient_id", flat=True))
        if Relation.CARE_TEAM in wanted and ids
        else set()
    )
    broke_glass = (
        set(
            _active_break_glass(user)
            .filter(patient_id__in=ids)
            .values_list("patient_id", flat=True)
        )
        if Relation.BREAK_GLASS in wanted and ids
        else set()
    )
    found: dict[int, Relation] = {}
    for patient in patients:
        candidates = {
            Relation.SELF: patient.user_id is not None and patient.user_id == user.pk,
            Relation.TREATING_DOCTOR: professional_id is not None
            and patient.treating_doctor_id == professional_id,
            Relation.CARE_STRUCTURE: patient.pk in followed,
            Relation.TERRITORY: user.role == Role.REGULATOR,
            Relation.IDENTITY_VIGILANCE: evidence is not None and evidence.identifies(patient),
            Relation.CARE_TEAM: patient.pk in in_care_team,
            Relation.BREAK_GLASS: patient.pk in broke_glass,
        }
        for relation in Relation:
            if relation in wanted and candidates.get(relation, False):
                found[patient.pk] = relation
                break
    return found


def _care_team_places(user: User) -> QuerySet[Any]:
    """The user's care-team places in force now (named, or an act not yet over)."""
    from maillage.records.models import CareTeamMember

    return CareTeamMember.objects.filter(
        professional__user_id=user.pk, ended_at__isnull=True
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=timezone.now()))


def _active_break_glass(user: User) -> QuerySet[Any]:
    from maillage.records.models import BreakGlassAccess

    return BreakGlassAccess.objects.filter(user_id=user.pk, expires_at__gt=timezone.now())


def professional_id_of(user: User) -> int | None:
    """The directory entry of a user, looked up once per user object (one request)."""
    from maillage.directory.models import Professional

    cached: int | bool | None = getattr(user, "_maillage_professional_id", False)
    if cached is not False:
        return cached
    found = Professional.objects.filter(user_id=user.pk).values_list("pk", flat=True).first()
    user._maillage_professional_id = found  # type: ignore[attr-defined]
    return found


def _relation_q(user: User, wanted: frozenset[Relation]) -> Q:
    """The patients a user has one of the wanted relations with, as a filter."""
    q = Q(pk__in=[])
    if Relation.SELF in wanted:
        q |= Q(user=user)
    if Relation.TREATING_DOCTOR in wanted:
        # The id, not a join inside the OR: the database can then use the
        # index on treating_doctor instead of scanning every patient.
        professional_id = professional_id_of(user)
        if professional_id is not None:
            q |= Q(treating_doctor_id=professional_id)
    if Relation.CARE_STRUCTURE in wanted:
        q |= Q(
            pk__in=Patient.followed_by.through.objects.filter(
                structure_id__in=structures_of(user).values("pk")
            ).values("patient_id")
        )
    if Relation.CARE_TEAM in wanted:
        q |= Q(pk__in=_care_team_places(user).values("patient_id"))
    if Relation.BREAK_GLASS in wanted:
        q |= Q(pk__in=_active_break_glass(user).values("patient_id"))
    if Relation.TERRITORY in wanted and user.role == Role.REGULATOR:
        q = Q()
    return q


def access_patient(
    user: User,
    patient: Patient,
    purpose: str,
    *,
    evidence: IdentityEvidence | None = None,
    detail: Mapping[str, Any] | None = None,
) -> Relation:
    """Decide whether ``user`` may do ``purpose`` on ``patient``; audit either way."""
    relation = relations_to(user, [patient], allowed_relations(user, purpose), evidence).get(
        patient.pk
    )
    record(
        user,
        Event(
            action=purpose,
            outcome=Outcome.GRANTED if relation else Outcome.DENIED,
            patient=patient,
            basis=relation or "",
            detail=detail,
        ),
    )
    if relation is None:
        raise PatientNotFound
    return relation


def load_patient(patient_uuid: object) -> Patient | None:
    """The record behind a public id, unchecked: for the gate and actions only."""
    if not _is_uuid(patient_uuid):
        return None
    return (
        Patient.objects.filter(uuid=uuid.UUID(str(patient_uuid)))
        .select_related("commune", "treating_doctor", "user")
        .first()
    )


def get_patient(
    user: User,
    patient_uuid: object,
    purpose: str,
    *,
    evidence: IdentityEvidence | None = None,
    detail: Mapping[str, Any] | None = None,
) -> Patient:
    """Look a patient up by public id and pass the gate; the only way views get one."""
    patient = load_patient(patient_uuid)
    if patient is None:
        record(
            user,
            Event(action=purpose, outcome=Outcome.DENIED, detail={"unknown_id": str(patient_uuid)}),
        )
        raise PatientNotFound
    access_patient(user, patient, purpose, evidence=evidence, detail=detail)
    return patient


def may(user: User, patient: Patient, purpose: str) -> bool:
    """Whether the gate would allow ``purpose``, without an audit entry.

    Only for shaping a page (showing an "edit" button) after an audited
    access to the same patient in the same request.
    """
    return patient.pk in relations_to(user, [patient], allowed_relations(user, purpose))


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def require_purpose(user: User, purpose: str, detail: Mapping[str, Any] | None = None) -> None:
    """Refuse, audited, a user whose role may never do ``purpose`` on any patient."""
    if not allowed_relations(user, purpose):
        record(user, Event(action=purpose, outcome=Outcome.DENIED, detail=detail))
        raise NotAllowed


def require_can_create(user: User) -> None:
    if not (user.is_authenticated and user.is_active and user.role in PATIENT_CREATORS):
        record(user, Event(action=Action.PATIENT_CREATE, outcome=Outcome.DENIED))
        raise NotAllowed


def can_create(user: User) -> bool:
    return user.is_authenticated and user.role in PATIENT_CREATORS


def can_search(user: User) -> bool:
    return bool(allowed_relations(user, Action.PATIENT_SEARCH))


@dataclass(frozen=True)
class SearchPage:
    patients: list[Patient]
    total: int
    offset: int
    limit: int
    relations: dict[int, Relation] = field(default_factory=dict)

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.patients) < self.total


def search_patients(
    user: User,
    criteria: Q,
    *,
    offset: int = 0,
    limit: int = 20,
    described_as: Mapping[str, Any] | None = None,
) -> SearchPage:
    """The patients matching ``criteria`` that the user may see, one page, audited.

    One entry records the search itself; each patient shown gets their own
    entry, so that it appears in their access log.
    """
    wanted = allowed_relations(user, Action.PATIENT_SEARCH)
    if not wanted:
        record(user, Event(action=Action.SEARCH, outcome=Outcome.DENIED, detail=described_as))
        raise NotAllowed
    matching: QuerySet[Patient] = (
        Patient.objects.filter(_relation_q(user, wanted))
        .filter(criteria)
        .select_related("commune", "treating_doctor")
        .order_by("birth_name", "first_birth_given_name", "birth_date", "pk")
    )
    total = matching.count()
    patients = list(matching[offset : offset + limit])
    relations = relations_to(user, patients, wanted)
    events = [
        Event(
            action=Action.SEARCH,
            detail={**(described_as or {}), "results": total, "offset": offset},
        )
    ]
    events += [
        Event(action=Action.PATIENT_SEARCH, patient=p, basis=relations.get(p.pk, ""))
        for p in patients
    ]
    record_many(user, events)
    return SearchPage(patients, total, offset, limit, relations)


def review_duplicates(
    user: User, candidates: Iterable[Patient], evidence: IdentityEvidence
) -> list[Patient]:
    """Show possible duplicates to someone creating an identity, audited.

    Only candidates that the typed traits (or matricule) really identify are
    returned: knowing every strict trait of a person is what identity
    vigilance asks before it shows who already holds them.
    """
    shown = []
    for candidate in candidates:
        try:
            access_patient(user, candidate, Action.DUPLICATE_REVIEW, evidence=evidence)
        except PatientNotFound:
            continue
        shown.append(candidate)
    return shown
