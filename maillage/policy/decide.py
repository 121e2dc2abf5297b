"""The decision itself: pure, unaudited, in one documented order.

1. **role** — the policy table says whether the user's role may ever do the
   purpose (``table.POLICY``);
2. **relation** — the user must hold one of the relations the table lists for
   that role (``relations.relations_to``);
3. **opposed_professional** — the patient opposed this professional: every
   purpose is closed to them (except being shown a possible duplicate);
4. **opposed_emergency** — the patient opposed emergency access: a
   break-the-glass opening and a regulation case grant nothing;
   then, for a document (reading, changing or receiving one):
5. **other_patient** — the document is not this patient's;
6. **hidden_from_patient** — the patient sees all her documents but those
   their author hid from her; the rules below are for professionals;
7. **author** — a professional always sees what they wrote;
8. **habilitation** — the habilitation matrix (data) says which role reads
   which type;
9. **sharing_refused** — when the patient refused sharing, a professional sees
   only what they wrote (an emergency opening excepted);
10. **masked** — a document the patient masked is seen only by its author and
    the médecin traitant;
11. **withdrawn** — a withdrawn document only by its author and the médecin
    traitant.

Every path asks ``decide`` (through ``maillage.policy.gate``, which audits);
a new relation goes into ``relations`` and the table, never here as a branch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from maillage.policy.consents import RecordState, record_state
from maillage.policy.relations import (
    REASONED,
    IdentityEvidence,
    Relation,
    professional_id_of,
    relations_to,
)
from maillage.policy.table import DOCUMENT_PURPOSES, OPPOSITION_EXEMPT, allowed_relations
from maillage.records.models import DocumentStatus, HabilitationRule

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.patients.models import Patient
    from maillage.records.models import Document


class Rule:
    """The names of the rules, as written in ``detail["rule"]`` of an audit entry."""

    ROLE = "role"
    NO_RELATION = "relation"
    OPPOSED_PROFESSIONAL = "opposed_professional"
    OPPOSED_EMERGENCY = "opposed_emergency"
    OTHER_PATIENT = "other_patient"
    HIDDEN_FROM_PATIENT = "hidden_from_patient"
    HABILITATION = "habilitation"
    SHARING_REFUSED = "sharing_refused"
    MASKED = "masked"
    WITHDRAWN = "withdrawn"
    # Granting rules.
    BY_RELATION = "by_relation"
    AUTHOR = "author"


GRANTING = frozenset({Rule.BY_RELATION, Rule.AUTHOR})


@dataclass(frozen=True)
class Decision:
    purpose: str
    relation: Relation | None
    rule: str

    @property
    def granted(self) -> bool:
        return self.relation is not None and self.rule in GRANTING


@dataclass
class Subject:
    """One user facing one patient: what every rule needs, read once."""

    user: User
    patient: Patient
    state: RecordState
    professional_id: int | None
    _matrix: dict[str, tuple[bool, bool]] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, user: User, patient: Patient, state: RecordState | None = None) -> Subject:
        return cls(
            user,
            patient,
            state if state is not None else record_state(patient),
            professional_id_of(user),
        )

    @property
    def is_treating_doctor(self) -> bool:
        return (
            self.professional_id is not None
            and self.patient.treating_doctor_id == self.professional_id
        )

    @property
    def matrix(self) -> dict[str, tuple[bool, bool]]:
        if self._matrix is None:
            self._matrix = habilitations(self.user.role)
        return self._matrix


def habilitations(role: str) -> dict[str, tuple[bool, bool]]:
    """Document type -> (may read, may write) for a role, from the matrix."""
    return {
        rule.document_type: (rule.can_read, rule.can_write)
        for rule in HabilitationRule.objects.filter(role=role)
    }


def decide(
    subject: Subject,
    purpose: str,
    *,
    document: Document | None = None,
    evidence: IdentityEvidence | None = None,
) -> Decision:
    """Rules 1 to 11, in order; the first that refuses decides."""
    wanted = allowed_relations(subject.user, purpose)
    if not wanted:
        return Decision(purpose, None, Rule.ROLE)
    relation = relations_to(subject.user, [subject.patient], wanted, evidence).get(
        subject.patient.pk
    )
    if relation is None:
        return Decision(purpose, None, Rule.NO_RELATION)
    refused = relation_rule(subject, purpose, relation)
    if refused is not None:
        return Decision(purpose, relation, refused)
    if document is None or purpose not in DOCUMENT_PURPOSES:
        return Decision(purpose, relation, Rule.BY_RELATION)
    return Decision(purpose, relation, document_rule(subject, relation, document))


def relation_rule(subject: Subject, purpose: str, relation: Relation) -> str | None:
    """Rules 3 and 4: what the patient decided about who may come in."""
    if relation == Relation.SELF:
        return None
    opposed = subject.professional_id in subject.state.opposed_professionals
    if opposed and purpose not in OPPOSITION_EXEMPT:
        return Rule.OPPOSED_PROFESSIONAL
    if relation in REASONED and subject.state.emergency_opposed:
        return Rule.OPPOSED_EMERGENCY
    return None


def emergency_refusal(user: User, patient: Patient) -> str | None:
    """Rules 3 and 4 for an emergency opening about to be made (break-the-glass)."""
    from maillage.audit.models import Action

    return relation_rule(Subject.of(user, patient), Action.BREAK_GLASS, Relation.BREAK_GLASS)


def document_rule(subject: Subject, relation: Relation, document: Document) -> str:
    """Rules 5 to 11 for one document; a granting rule name when it is shown."""
    if document.patient_id != subject.patient.pk:
        return Rule.OTHER_PATIENT
    if relation == Relation.SELF:
        return Rule.HIDDEN_FROM_PATIENT if document.hidden_from_patient else Rule.BY_RELATION
    if document.author_id == subject.user.pk:
        return Rule.AUTHOR
    if not subject.matrix.get(document.type, (False, False))[0]:
        return Rule.HABILITATION
    if subject.state.sharing_refused and relation != Relation.BREAK_GLASS:
        return Rule.SHARING_REFUSED
    if document.pk in subject.state.masked_documents and not subject.is_treating_doctor:
        return Rule.MASKED
    if document.status == DocumentStatus.WITHDRAWN and not subject.is_treating_doctor:
        return Rule.WITHDRAWN
    return Rule.BY_RELATION
