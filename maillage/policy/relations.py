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

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.directory.queries import structures_of
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


def _patients_in(queryset: QuerySet[Any], ids: list[int]) -> set[int]:
    return set(queryset.filter(patient_id__in=ids).values_list("patient_id", flat=True))


def relations_to(
    user: User,
    patients: Iterable[Patient],
    wanted: frozenset[Relation],
    evidence: IdentityEvidence | None = None,
) -> dict[int, Relation]:
    """For each patient, the first wanted relation the user has with them."""
    patients = list(patients)
    ids = [p.pk for p in patients]
    if not ids or not wanted:
        return {}
    followed: set[int] = set()
    if Relation.CARE_STRUCTURE in wanted:
        through = Patient.followed_by.through
        followed = set(
            through.objects.filter(
                patient_id__in=ids, structure__in=structures_of(user)
            ).values_list("patient_id", flat=True)
        )
    professional_id = professional_id_of(user) if Relation.TREATING_DOCTOR in wanted else None
    in_care_team = (
        _patients_in(care_team_places(user), ids) if Relation.CARE_TEAM in wanted else set()
    )
    broke_glass = (
        _patients_in(active_break_glass(user), ids) if Relation.BREAK_GLASS in wanted else set()
    )
    regulated = (
        _patients_in(open_regulation_cases(user), ids)
        if Relation.REGULATION_CASE in wanted
        else set()
    )
    is_professional = Relation.EXCHANGE in wanted and professional_id_of(user) is not None
    found: dict[int, Relation] = {}
    for patient in patients:
        candidates = {
            Relation.SELF: patient.user_id is not None and patient.user_id == user.pk,
            Relation.TREATING_DOCTOR: professional_id is not None
            and patient.treating_doctor_id == professional_id,
            Relation.CARE_STRUCTURE: patient.pk in followed,
            Relation.CARE_TEAM: patient.pk in in_care_team,
            Relation.BREAK_GLASS: patient.pk in broke_glass,
            Relation.REGULATION_CASE: patient.pk in regulated,
            Relation.INS_PROOF: evidence is not None and evidence.proves_ins(patient),
            Relation.IDENTITY_VIGILANCE: evidence is not None and evidence.identifies(patient),
            Relation.EXCHANGE: is_professional,
        }
        for relation in Relation:
            if relation in wanted and candidates.get(relation, False):
                found[patient.pk] = relation
                break
    return found


def relation_q(user: User, wanted: frozenset[Relation]) -> Q:
    """The patients a user has one of the wanted relations with, as a filter.

    Relations that need typed evidence (INS proof, identity vigilance) never
    make a list. The exchange holds with every patient, for a professional of
    secure messaging: it lists them all, for the opposition rule to cut.
    """
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
        q |= Q(pk__in=care_team_places(user).values("patient_id"))
    if Relation.BREAK_GLASS in wanted:
        q |= Q(pk__in=active_break_glass(user).values("patient_id"))
    if Relation.REGULATION_CASE in wanted:
        q |= Q(pk__in=open_regulation_cases(user).values("patient_id"))
    if Relation.EXCHANGE in wanted and professional_id_of(user) is not None:
        q |= Q(pk__isnull=False)
    return q
