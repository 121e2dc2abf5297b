"""The gate in front of the shared record and its documents.

It stands on the patient gate (maillage.patients.access): the relations that
open a record (médecin traitant, care team, break-the-glass, regulation) come
from there. On top, it applies what the patient decided and what the
professions may see:

- an opposition to a named professional shuts the record to them;
- an opposition to emergency access shuts it to break-the-glass and to the
  regulator;
- a refusal of sharing leaves professionals only the documents they wrote;
- a masked document (MASQUE_PS) is seen only by its author and the médecin
  traitant; a document hidden from the patient is not shown to the patient;
- the habilitation matrix (HabilitationRule rows, editable) says which role
  reads and writes which type.

Every decision appends an audit entry; refusals look like "not found".
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.http import Http404
from django.utils import timezone

from maillage.accounts.models import Role
from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome
from maillage.patients.access import (
    PatientNotFound,
    Relation,
    allowed_relations,
    load_patient,
    professional_id_of,
    relations_to,
)
from maillage.records.models import (
    BreakGlassAccess,
    Consent,
    ConsentKind,
    Document,
    DocumentStatus,
    HabilitationRule,
)

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.files.models import StoredFile
    from maillage.patients.models import Patient


class DocumentNotFound(Http404):
    """A missing document and a refused one look the same."""


@dataclass(frozen=True)
class RecordState:
    """The patient's consents in force, read once per decision."""

    sharing_refused: bool
    opposed_professionals: frozenset[int]
    emergency_opposed: bool
    masked_documents: frozenset[int]


def record_state(patient: Patient) -> RecordState:
    consents = list(
        Consent.objects.filter(patient=patient)
        .order_by("-recorded_at", "-pk")
        .values("kind", "granted", "professional_id", "document_id", "withdrawn_at")
    )
    latest_sharing = next((c for c in consents if c["kind"] == ConsentKind.SHARING), None)
    in_force = [c for c in consents if c["withdrawn_at"] is None]
    return RecordState(
        sharing_refused=latest_sharing is not None and not latest_sharing["granted"],
        opposed_professionals=frozenset(
            c["professional_id"] for c in in_force if c["kind"] == ConsentKind.OPPOSE_PROFESSIONAL
        ),
        emergency_opposed=any(c["kind"] == ConsentKind.OPPOSE_EMERGENCY for c in in_force),
        masked_documents=frozenset(
            c["document_id"] for c in in_force if c["kind"] == ConsentKind.MASK_DOCUMENT
        ),
    )


@dataclass(frozen=True)
class RecordAccess:
    """An opened record: who, on what basis, under which consents."""

    user: User
    patient: Patient
    relation: Relation
    state: RecordState
    professional_id: int | None

    @property
    def is_patient(self) -> bool:
        return self.relation == Relation.SELF

    @property
    def is_treating_doctor(self) -> bool:
        return (
            self.professional_id is not None
            and self.patient.treating_doctor_id == self.professional_id
        )


def _record_relation(
    user: User, patient: Patient, purpose: str
) -> tuple[Relation | None, RecordState, int | None]:
    state = record_state(patient)
    relation = relations_to(user, [patient], allowed_relations(user, purpose)).get(patient.pk)
    professional_id = professional_id_of(user)
    if relation is None or relation == Relation.SELF:
        return relation, state, professional_id
    if professional_id is not None and professional_id in state.opposed_professionals:
        return None, state, professional_id
    if relation in {Relation.BREAK_GLASS, Relation.TERRITORY} and state.emergency_opposed:
        return None, state, professional_id
    return relation, state, professional_id


def _audit(
    user: User,
    patient: Patient,
    purpose: str,
    relation: Relation | None,
    *,
    granted: bool,
    detail: dict[str, str] | None = None,
) -> None:
    record(
        user,
        Event(
            action=purpose,
            outcome=Outcome.GRANTED if granted else Outcome.DENIED,
            patient=patient,
            basis=(relation or "") if granted else "",
            # An emergency opening carries its stated reason into every entry.
            reason=_break_glass_reason(user, patient) if relation == Relation.BREAK_GLASS else "",
            detail=detail,
        ),
    )


def open_record(
    user: User,
    patient: Patient,
    purpose: str = Action.RECORD_READ,
    *,
    detail: dict[str, str] | None = None,
) -> RecordAccess:
    """Open a patient's shared record, audited; PatientNotFound when refused."""
    relation, state, professional_id = _record_relation(user, patient, purpose)
    _audit(user, patient, purpose, relation, granted=relation is not None, detail=detail)
    if relation is None:
        raise PatientNotFound
    return RecordAccess(user, patient, relation, state, professional_id)


def open_record_by_id(
    user: User,
    patient_uuid: object,
    purpose: str = Action.RECORD_READ,
    *,
    detail: dict[str, str] | None = None,
) -> RecordAccess:
    patient = load_patient(patient_uuid)
    if patient is None:
        record(
            user,
            Event(action=purpose, outcome=Outcome.DENIED, detail={"unknown_id": str(patient_uuid)}),
        )
        raise PatientNotFound
    return open_record(user, patient, purpose, detail=detail)


def _break_glass_reason(user: User, patient: Patient) -> str:
    access = (
        BreakGlassAccess.objects.filter(user=user, patient=patient, expires_at__gt=timezone.now())
        .order_by("-started_at")
        .first()
    )
    return access.reason if access else ""


def habilitations(role: str) -> dict[str, tuple[bool, bool]]:
    """Document type -> (may read, may write) for a role, from the matrix."""
    return {
        rule.document_type: (rule.can_read, rule.can_write)
        for rule in HabilitationRule.objects.filter(role=role)
    }


def document_visible(
    access: RecordAccess, document: Document, matrix: dict[str, tuple[bool, bool]]
) -> bool:
    """Whether this opened record shows this document. One condition per rule."""
    if document.patient_id != access.patient.pk:
        return False
    if access.is_patient:
        return not document.hidden_from_patient
    if document.author_id == access.user.pk:
        return True
    if not matrix.get(document.type, (False, False))[0]:
        return False
    if document.pk in access.state.masked_documents:
        return access.is_treating_doctor
    if access.state.sharing_refused and access.relation != Relation.BREAK_GLASS:
        return False
    if document.status == DocumentStatus.WITHDRAWN:
        return access.is_treating_doctor
    return True


def visible_documents(access: RecordAccess, *, include_history: bool = False) -> list[Document]:
    """The documents of the opened record this user may see, newest first."""
    documents = (
        Document.objects.filter(patient=access.patient)
        .select_related("author")
        .prefetch_related("document_files__file")
    )
    if not include_history:
        documents = documents.filter(status=DocumentStatus.CURRENT)
    matrix = {} if access.is_patient else habilitations(access.user.role)
    return [d for d in documents if document_visible(access, d, matrix)]


def get_document(
    user: User, document_uuid: object, purpose: str = Action.DOCUMENT_READ
) -> tuple[Document, RecordAccess]:
    """A document through the gate: the record must open and the rules show it.

    One audit entry per attempt, naming the document (never its title).
    """
    document = _load_document(document_uuid)
    if document is None:
        record(
            user,
            Event(
                action=purpose, outcome=Outcome.DENIED, detail={"unknown_id": str(document_uuid)}
            ),
        )
        raise DocumentNotFound
    patient = document.patient
    relation, state, professional_id = _record_relation(user, patient, purpose)
    access = RecordAccess(user, patient, relation, state, professional_id) if relation else None
    matrix = {} if access is None or access.is_patient else habilitations(user.role)
    shown = access is not None and document_visible(access, document, matrix)
    _audit(
        user,
        patient,
        purpose,
        relation,
        granted=shown,
        detail={"document": str(document.uuid), "type": document.type},
    )
    if access is None or not shown:
        raise DocumentNotFound
    return document, access


def get_document_file(user: User, file_uuid: object) -> tuple[Document, StoredFile]:
    """A stored file through the documents that hold it: the first one the user may see.

    Every document tried is a gated (and audited) read; a file held by no
    document is refused like an unknown document, and audited so.
    """
    try:
        key = uuid.UUID(str(file_uuid))
    except ValueError:
        key = uuid.UUID(int=0)  # names no file
    holders = list(
        Document.objects.filter(document_files__file__uuid=key)
        .order_by("-created_at")
        .values_list("uuid", flat=True)
    )
    if not holders:
        record(
            user,
            Event(
                action=Action.DOCUMENT_READ,
                outcome=Outcome.DENIED,
                detail={"unknown_file": str(file_uuid)},
            ),
        )
        raise DocumentNotFound
    for holder in holders:
        try:
            document, _opened = get_document(user, holder)
        except DocumentNotFound:
            continue
        link = document.document_files.select_related("file").filter(file__uuid=key).first()
        if link is not None:
            return document, link.file
    raise DocumentNotFound


def _load_document(document_uuid: object) -> Document | None:
    try:
        key = uuid.UUID(str(document_uuid))
    except ValueError:
        return None
    return Document.objects.select_related("patient", "author").filter(uuid=key).first()


def writable_types(user: User, access: RecordAccess) -> list[str]:
    """Types of document this user may add to the opened record."""
    if access.relation not in allowed_relations(user, Action.DOCUMENT_CREATE):
        return []
    return _writable(user)


def writable_types_for(user: User, patient: Patient) -> list[str]:
    """The same answer without opening the record, so without an audit entry.

    Only to shape a page (show a "file into the record" control); the action
    that files goes through ``open_record``, which decides and audits.
    """
    relation, _state, _professional = _record_relation(user, patient, Action.DOCUMENT_CREATE)
    return _writable(user) if relation is not None else []


def _writable(user: User) -> list[str]:
    return [t for t, (_read, write) in habilitations(user.role).items() if write]


def may_break_glass(user: User) -> bool:
    return user.is_authenticated and user.role in BREAK_GLASS_ROLES


# Who may open a record in an emergency (the habilitation matrix still applies).
BREAK_GLASS_ROLES = frozenset({Role.DOCTOR, Role.NURSE, Role.PHARMACIST})


def visible_ids(access: RecordAccess, documents: Iterable[Document]) -> set[int]:
    matrix = {} if access.is_patient else habilitations(access.user.role)
    return {d.pk for d in documents if document_visible(access, d, matrix)}


def review_listing(user: User, accesses: Iterable[BreakGlassAccess]) -> list[BreakGlassAccess]:
    """Emergency accesses shown to an administrator for review, each one audited.

    The reviewer sees who the patient is (to judge the access), never the
    record itself; the patient sees the review in their access log.
    """
    if user.role != Role.ADMIN:
        return []
    shown = list(accesses)
    for item in shown:
        record(
            user,
            Event(
                action=Action.BREAK_GLASS_REVIEW,
                patient=item.patient,
                basis="review",
                detail={"access": str(item.uuid), "step": "listed"},
            ),
        )
    return shown
