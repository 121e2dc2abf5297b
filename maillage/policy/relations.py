"""The relations a user can have with a patient, computed two ways that agree.

``relations_to`` answers for given patients (in Python, a few queries for a
whole page); ``relation_q`` answers as a filter for lists. A new relation
(an act's participants, a telemonitoring team...) is added to ``Relation``,
to both functions, to ``RELATION_LABELS`` and then to the policy table.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.directory.queries import works_at_q
from maillage.patients.models import Patient

if TYPE_CHECKING:
    from maillage.accounts.models import User


class Relation(enum.StrEnum):
    SELF = "self"
    TREATING_DOCTOR = "treating_doctor"
    CARE_STRUCTURE = "care_structure"
    # Named by the patient, or involved in an act while it lasts.
    CARE_TEAM = "care_team"
    # An emergency opening, time-limited, flagged and reviewed.
    BREAK_GLASS = "break_glass"
    # An open regulation case about this patient (reason, time limit, review).
    REGULATION_CASE = "regulation_case"
    # The user proved the identity with the matricule INS and its key.
    INS_PROOF = "ins_proof"
    # The user typed every strict trait: enough to be shown a possible
    # duplicate, never enough to attach the identity to one's structure.
    IDENTITY_VIGILANCE = "identity_vigilance"
    # A professional of secure messaging receiving an exchange about the patient.
    EXCHANGE = "exchange"
    # Taking part in a tele-expertise about the patient: its requester; its
    # specialist while it is open and for a limited time after; a member of
    # its pool while nobody has taken it (maillage.expertise).
    EXPERTISE = "expertise"
    # A professional's place in a teleconsultation of the patient: while it
    # is planned or under way, and for a limited time after it ended
    # (maillage.policy.teleconsult).
    TELECONSULTATION = "teleconsultation"
    # Taking part in an appointment of the patient: its professional, the staff
    # of its structure, whoever booked it (maillage.policy.agenda).
    APPOINTMENT = "appointment"
    # Creating a record makes no relation yet; the creator's role suffices.
    CREATOR = "creator"


RELATION_LABELS = {
    Relation.SELF: _("the patient"),
    Relation.TREATING_DOCTOR: _("médecin traitant"),
    Relation.CARE_STRUCTURE: _("structure following the patient"),
    Relation.CARE_TEAM: _("care team"),
    Relation.BREAK_GLASS: _("emergency access (break-the-glass)"),
    Relation.REGULATION_CASE: _("regulation case"),
    Relation.INS_PROOF: _("identity proven by the INS"),
    Relation.IDENTITY_VIGILANCE: _("identity vigilance"),
    Relation.EXCHANGE: _("secure exchange between professionals"),
    Relation.EXPERTISE: _("tele-expertise"),
    Relation.TELECONSULTATION: _("teleconsultation"),
    Relation.APPOINTMENT: _("appointment"),
    Relation.CREATOR: _("creation of the record"),
}

# Relations that exist only for a while and are reviewed afterwards: every
# entry they grant carries their stated reason.
REASONED = frozenset({Relation.BREAK_GLASS, Relation.REGULATION_CASE})


@dataclass(frozen=True)
class IdentityEvidence:
    """What a user typed that identifies one person: strict traits or matricule."""

    match_key: str
    matricule: str | None = None

    def identifies(self, patient: Patient) -> bool:
        return self.proves_ins(patient) or patient.match_key == self.match_key

    def proves_ins(self, patient: Patient) -> bool:
        """The matricule with its key, which a stranger to the patient does not hold."""
        return bool(self.matricule) and patient.ins_matricule == self.matricule


def professional_id_of(user: User) -> int | None:
    """The directory entry of a user, looked up once per user object (one request)."""
    from maillage.directory.models import Professional

    cached: int | bool | None = getattr(user, "_maillage_professional_id", False)
    if cached is not False:
        return cached
    joined = Professional._meta.get_field("user").remote_field
    if joined.is_cached(user):
        # Already fetched with the user (the API token's select_related).
        entry = joined.get_cached_value(user)
        found = entry.pk if entry is not None else None
    else:
        found = Professional.objects.filter(user_id=user.pk).values_list("pk", flat=True).first()
    user._maillage_professional_id = found  # type: ignore[attr-defined]
    return found


def care_team_places(user: User) -> QuerySet[Any]:
    """The user's care-team places in force now (named, or an act not yet over)."""
    from maillage.records.models import CareTeamMember

    return CareTeamMember.objects.filter(
        professional__user_id=user.pk, ended_at__isnull=True
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=timezone.now()))


def active_break_glass(user: User) -> QuerySet[Any]:
    from maillage.records.models import BreakGlassAccess

    return BreakGlassAccess.objects.filter(user_id=user.pk, expires_at__gt=timezone.now())


def open_regulation_cases(user: User) -> QuerySet[Any]:
    from maillage.regulation.models import RegulationCase

    return RegulationCase.objects.filter(
        regulator_id=user.pk, closed_at__isnull=True, expires_at__gt=timezone.now()
    )


def expertise_requests(user: User) -> QuerySet[Any]:
    """The tele-expertise requests the user takes part in now (``policy.expertise`` says how)."""
    from maillage.policy.expertise import participating

    return participating(user)


def teleconsultations(user: User) -> QuerySet[Any]:
    """The teleconsultations the user has a place in now (``policy.teleconsult`` says how)."""
    from maillage.policy.teleconsult import participating

    return participating(user)


def appointments_of(user: User) -> QuerySet[Any]:
    """The appointments the user takes part in now (``policy.agenda`` says how)."""
    from maillage.policy.agenda import participating

    return participating(user)


def _patients_in(queryset: QuerySet[Any], ids: list[int]) -> set[int]:
    return set(queryset.filter(patient_id__in=ids).values_list("patient_id", flat=True))


def relations_to(
    user: User,
    patients: Iterable[Patient],
    wanted: frozenset[Relation],
    evidence: IdentityEvidence | None = None,
) -> dict[int, Relation]:
    """For each patient, the first wanted relation the user has with them.

    Relations are looked up in the policy's order, each only for the patients
    still without one: the médecin traitant reading his patient costs no
    query about structures, care teams, openings or cases (a request's fixed
    cost), and a list costs at most one query per relation.
    """
    patients = list(patients)
    if not patients or not wanted:
        return {}
    found: dict[int, Relation] = {}
    for relation in Relation:
        if relation not in wanted:
            continue
        rest = [p for p in patients if p.pk not in found]
        if not rest:
            break
        for pk in _holding(user, relation, rest, evidence):
            found[pk] = relation
    return found


def _holding(
    user: User, relation: Relation, patients: list[Patient], evidence: IdentityEvidence | None
) -> set[int]:
    """The ids of the patients with whom the user has this relation."""
    ids = [p.pk for p in patients]
    if relation is Relation.SELF:
        return {p.pk for p in patients if p.user_id is not None and p.user_id == user.pk}
    if relation is Relation.TREATING_DOCTOR:
        professional_id = professional_id_of(user)
        if professional_id is None:
            return set()
        return {p.pk for p in patients if p.treating_doctor_id == professional_id}
    if relation is Relation.CARE_STRUCTURE:
        through = Patient.followed_by.through
        return set(
            through.objects.filter(
                works_at_q(user, "structure_id"), patient_id__in=ids
            ).values_list("patient_id", flat=True)
        )
    if relation is Relation.CARE_TEAM:
        return _patients_in(care_team_places(user), ids)
    if relation is Relation.BREAK_GLASS:
        return _patients_in(active_break_glass(user), ids)
    if relation is Relation.REGULATION_CASE:
        return _patients_in(open_regulation_cases(user), ids)
    if relation is Relation.INS_PROOF:
        return {p.pk for p in patients if evidence is not None and evidence.proves_ins(p)}
    if relation is Relation.IDENTITY_VIGILANCE:
        return {p.pk for p in patients if evidence is not None and evidence.identifies(p)}
    if relation is Relation.EXPERTISE:
        return _patients_in(expertise_requests(user), ids)
    if relation is Relation.TELECONSULTATION:
        return _patients_in(teleconsultations(user), ids)
    if relation is Relation.APPOINTMENT:
        return _patients_in(appointments_of(user), ids)
    if relation is Relation.EXCHANGE:
        # Every role of secure messaging (the table names them), staff
        # included: a secretary told to book the patient receives the exchange.
        return set(ids)
    return set()  # CREATOR: no relation with an existing patient


def relation_q(user: User, wanted: frozenset[Relation], via: str = "") -> Q:
    """The patients a user has one of the wanted relations with, as a filter.

    Relations that need typed evidence (INS proof, identity vigilance) never
    make a list. The exchange holds with every patient, for a professional of
    secure messaging: it lists them all, for the opposition rule to cut.

    ``via`` filters another model by its patient instead (``"patient__"``: a
    thread by the patient it is about), in one statement with that model's
    rows rather than through the set of every patient the relation admits.
    """
    pk = f"{via}pk"
    q = Q(**{f"{pk}__in": []})
    if Relation.SELF in wanted:
        q |= Q(**{f"{via}user": user})
    if Relation.TREATING_DOCTOR in wanted:
        # The id, not a join inside the OR: the database can then use the
        # index on treating_doctor instead of scanning every patient.
        professional_id = professional_id_of(user)
        if professional_id is not None:
            q |= Q(**{f"{via}treating_doctor_id": professional_id})
    if Relation.CARE_STRUCTURE in wanted:
        # A correlated EXISTS on the (patient, structure) unique index: one
        # index probe per candidate row, the user's few structures hashed once.
        # As "pk IN (every patient my structures follow)" the planner could
        # not hash a large set inside the OR (work_mem) and rescanned it for
        # every row: 20 s a search at 500 000 patients.
        q |= Q(
            Exists(
                Patient.followed_by.through.objects.filter(
                    works_at_q(user, "structure_id"), patient_id=OuterRef(pk)
                )
            )
        )
    if Relation.CARE_TEAM in wanted:
        q |= Q(**{f"{pk}__in": care_team_places(user).values("patient_id")})
    if Relation.BREAK_GLASS in wanted:
        q |= Q(**{f"{pk}__in": active_break_glass(user).values("patient_id")})
    if Relation.REGULATION_CASE in wanted:
        q |= Q(**{f"{pk}__in": open_regulation_cases(user).values("patient_id")})
    if Relation.EXPERTISE in wanted:
        q |= Q(**{f"{pk}__in": expertise_requests(user).values("patient_id")})
    if Relation.TELECONSULTATION in wanted:
        q |= Q(**{f"{pk}__in": teleconsultations(user).values("patient_id")})
    if Relation.APPOINTMENT in wanted:
        q |= Q(**{f"{pk}__in": appointments_of(user).values("patient_id")})
    if Relation.EXCHANGE in wanted:
        q |= Q(**{f"{pk}__isnull": False})
    return q
