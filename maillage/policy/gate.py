"""The audited face of the policy: the only way code obtains patient data.

Pages, FHIR handlers, messaging, file downloads, commands and tasks call the
functions here. Each asks ``decide`` and leaves one audit entry that says what
happened: a read is audited when it is handed over; a change gets a ``Grant``
that the action closes with ``done()`` (in the transaction that writes) or
``failed()``; a refusal is audited at once, on the patient, naming the rule.
A refusal looks like "not found".
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from django.db.models import Count, Q, QuerySet, Window
from django.http import Http404
from django.utils import timezone

from maillage.accounts.models import Role
from maillage.audit.actions import Event, record, record_many
from maillage.audit.models import Action, Outcome
from maillage.db.statements import Statement
from maillage.patients.models import Patient
from maillage.policy.consents import RecordState, record_state
from maillage.policy.decide import Decision, Rule, Subject, decide, document_rule
from maillage.policy.relations import (
    REASONED,
    IdentityEvidence,
    Relation,
    professional_id_of,
    relation_q,
    relations_to,
)
from maillage.policy.table import (
    BREAK_GLASS_ROLES,
    PATIENT_CREATORS,
    allowed_relations,
)
from maillage.records.models import (
    BreakGlassAccess,
    CareTeamMember,
    Consent,
    ConsentKind,
    Document,
    DocumentStatus,
)

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.files.models import StoredFile


class PatientNotFound(Http404):
    """Raised for a missing patient and for a refused one alike."""


class DocumentNotFound(Http404):
    """A missing document and a refused one look the same."""


class NotAllowed(Exception):
    """The user's role may not do this at all (no patient involved)."""


# --- Audit ---------------------------------------------------------------------


def _reason(user: User, patient: Patient, relation: Relation | None) -> str:
    """An emergency opening or a regulation case carries its reason into every entry."""
    if relation == Relation.BREAK_GLASS:
        access = (
            BreakGlassAccess.objects.filter(
                user=user, patient=patient, expires_at__gt=timezone.now()
            )
            .order_by("-started_at")
            .first()
        )
        return access.reason if access else ""
    if relation == Relation.REGULATION_CASE:
        from maillage.policy.relations import open_regulation_cases

        case = open_regulation_cases(user).filter(patient=patient).order_by("-opened_at").first()
        return case.reason if case else ""
    return ""


def _event(
    user: User,
    patient: Patient,
    decision: Decision,
    outcome: str,
    detail: Mapping[str, Any] | None,
) -> Event:
    extra: dict[str, Any] = dict(detail or {})
    if outcome == Outcome.DENIED:
        extra["rule"] = decision.rule
    granted_basis = decision.relation if decision.relation and outcome != Outcome.DENIED else ""
    return Event(
        action=decision.purpose,
        outcome=outcome,
        patient=patient,
        basis=granted_basis or "",
        reason=_reason(user, patient, decision.relation) if granted_basis in REASONED else "",
        detail=extra,
    )


def audit_event(
    user: User,
    patient: Patient,
    decision: Decision,
    outcome: str,
    detail: Mapping[str, Any] | None,
) -> Event:
    """The entry ``audit_decision`` writes, for a caller that writes several at once."""
    return _event(user, patient, decision, outcome, detail)


def audit_decision(
    user: User,
    patient: Patient,
    decision: Decision,
    *,
    outcome: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    if outcome is None:
        outcome = Outcome.GRANTED if decision.granted else Outcome.DENIED
    record(user, _event(user, patient, decision, outcome, detail))


def _refuse_unknown(user: User, purpose: str, key: str, value: object) -> None:
    record(user, Event(action=purpose, outcome=Outcome.DENIED, detail={key: str(value)}))


@dataclass
class Grant:
    """A change the policy allowed; the action says how it ended, exactly once."""

    user: User
    patient: Patient
    decision: Decision
    detail: dict[str, Any] = field(default_factory=dict)
    _closed: bool = False

    def done(self, **more: Any) -> None:
        self._close(Outcome.GRANTED, more)

    def failed(self, failure: str, **more: Any) -> None:
        self._close(Outcome.FAILED, {"failure": failure, **more})

    def _close(self, outcome: str, more: Mapping[str, Any]) -> None:
        if self._closed:
            return
        self._closed = True
        audit_decision(
            self.user, self.patient, self.decision, outcome=outcome, detail={**self.detail, **more}
        )


# --- Patients --------------------------------------------------------------------


@dataclass
class PatientAccess:
    """A patient as one user may see them, and what else that user may do."""

    subject: Subject
    relation: Relation

    @property
    def patient(self) -> Patient:
        return self.subject.patient

    def allows(self, purpose: str) -> bool:
        """The same decision, unaudited: only to shape the page of this audited access."""
        return decide(self.subject, purpose).granted

    def require(self, purpose: str, *, detail: Mapping[str, Any] | None = None) -> None:
        """Refuse (audited, by its rule) a further purpose this access does not allow."""
        decision = decide(self.subject, purpose)
        if not decision.granted:
            audit_decision(self.subject.user, self.patient, decision, detail=detail)
            raise PatientNotFound


def allowed(user: User, patient: Patient, purpose: str) -> bool:
    """``decide`` unaudited, to shape a page (offer a control) whose action decides again.

    Not a second opinion: the same function decides here and in the action.
    """
    return decide(Subject.of(user, patient), purpose).granted


def own_patient(user: User) -> Patient | None:
    """The patient record of a patient's own account (the policy still decides each read)."""
    if not user.is_authenticated:
        return None
    return Patient.objects.filter(user_id=user.pk).first()


def load_patient(patient_uuid: object) -> Patient | None:
    """The row behind a public id, unchecked: for the policy and the actions only."""
    if not _is_uuid(patient_uuid):
        return None
    return _PATIENT_BY_UUID.first(uuid.UUID(str(patient_uuid)))


# Every access to a patient starts here: its SQL is compiled once per process
# (maillage.db.statements). The uuid is unique, so no ORDER BY. Not her
# account: the policy compares its id, and what writes to her (a notice)
# loads it then, rather than every read building a User.
_PATIENT_BY_UUID = Statement(
    Patient.objects.select_related("commune", "treating_doctor").order_by(), "uuid"
)


def access_patient(
    user: User,
    patient: Patient,
    purpose: str,
    *,
    evidence: IdentityEvidence | None = None,
    detail: Mapping[str, Any] | None = None,
) -> PatientAccess:
    """Decide ``purpose`` on ``patient`` and audit it as done; PatientNotFound if refused."""
    subject = Subject.of(user, patient)
    decision = decide(subject, purpose, evidence=evidence)
    audit_decision(user, patient, decision, detail=detail)
    if not decision.granted or decision.relation is None:
        raise PatientNotFound
    return PatientAccess(subject, decision.relation)


def authorize(
    user: User,
    patient: Patient,
    purpose: str,
    *,
    evidence: IdentityEvidence | None = None,
    detail: Mapping[str, Any] | None = None,
) -> Grant:
    """Decide a change; a refusal is audited now, a grant when the action closes it."""
    decision = decide(Subject.of(user, patient), purpose, evidence=evidence)
    if not decision.granted:
        audit_decision(user, patient, decision, detail=detail)
        raise PatientNotFound
    return Grant(user, patient, decision, dict(detail or {}))


def open_patient(
    user: User,
    patient_uuid: object,
    purpose: str,
    *,
    evidence: IdentityEvidence | None = None,
    detail: Mapping[str, Any] | None = None,
) -> PatientAccess:
    patient = load_patient(patient_uuid)
    if patient is None:
        _refuse_unknown(user, purpose, "unknown_id", patient_uuid)
        raise PatientNotFound
    return access_patient(user, patient, purpose, evidence=evidence, detail=detail)


def get_patient(
    user: User,
    patient_uuid: object,
    purpose: str,
    *,
    evidence: IdentityEvidence | None = None,
    detail: Mapping[str, Any] | None = None,
) -> Patient:
    """A patient by public id through the policy, audited."""
    return open_patient(user, patient_uuid, purpose, evidence=evidence, detail=detail).patient


def require_purpose(user: User, purpose: str, detail: Mapping[str, Any] | None = None) -> None:
    """Refuse, audited, a user whose role may never do ``purpose`` on any patient."""
    if not allowed_relations(user, purpose):
        record(
            user,
            Event(
                action=purpose, outcome=Outcome.DENIED, detail={**(detail or {}), "rule": "role"}
            ),
        )
        raise NotAllowed


def require_can_create(user: User) -> None:
    if not can_create(user):
        record(
            user,
            Event(action=Action.PATIENT_CREATE, outcome=Outcome.DENIED, detail={"rule": "role"}),
        )
        raise NotAllowed


def can_create(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.role in PATIENT_CREATORS


def can_search(user: User) -> bool:
    return bool(allowed_relations(user, Action.PATIENT_SEARCH))


def may_break_glass(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.role in BREAK_GLASS_ROLES


def find_by_evidence(evidence: IdentityEvidence | None) -> Patient | None:
    """The one patient typed evidence designates, unchecked: for an opening action only.

    The matricule INS first; otherwise the strict traits, but only when they
    name exactly one person (two namesakes: the matricule is needed).
    """
    if evidence is None:
        return None
    if evidence.matricule:
        found = Patient.objects.filter(ins_matricule=evidence.matricule).first()
        if found is not None:
            return found
    if not evidence.match_key:
        return None
    matches = list(Patient.objects.filter(match_key=evidence.match_key)[:2])
    return matches[0] if len(matches) == 1 else None


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


def visible_patients_q(user: User, purpose: str, via: str = "") -> Q:
    """The patients ``decide`` grants ``purpose`` on, as a filter (rules 1 to 4).

    ``via`` as for ``relation_q``: the same rules on another model's patient.
    """
    wanted = allowed_relations(user, purpose)
    pk_in = f"{via}pk__in"
    # Rule 4 as a filter: an opposition to emergency access closes a patient
    # the user reaches only by an opening or a case, not one also reached by
    # another relation (``decide`` stands on the first relation held).
    q = relation_q(user, wanted - REASONED, via)
    if wanted & REASONED:
        q |= relation_q(user, wanted & REASONED, via) & ~Q(
            **{
                pk_in: Consent.objects.filter(
                    kind=ConsentKind.OPPOSE_EMERGENCY, withdrawn_at__isnull=True
                ).values("patient_id")
            }
        )
    professional_id = professional_id_of(user)
    if professional_id is not None:
        q &= ~Q(
            **{
                pk_in: Consent.objects.filter(
                    kind=ConsentKind.OPPOSE_PROFESSIONAL,
                    professional_id=professional_id,
                    withdrawn_at__isnull=True,
                ).values("patient_id")
            }
        )
    return q


def _refuse_search(user: User, described_as: Mapping[str, Any] | None) -> NoReturn:
    """A role that may not search: the refusal audited, then NotAllowed."""
    record(
        user,
        Event(
            action=Action.SEARCH,
            outcome=Outcome.DENIED,
            detail={**(described_as or {}), "rule": "role"},
        ),
    )
    raise NotAllowed


def search_patients(
    user: User,
    criteria: Q,
    *,
    offset: int = 0,
    limit: int = 20,
    described_as: Mapping[str, Any] | None = None,
    order_by: Sequence[str] = (),
) -> SearchPage:
    """The patients matching ``criteria`` that the user may see, one page, audited.

    ``order_by`` (fields of Patient) comes before the usual order, which breaks ties.

    One entry records the search itself; each patient shown gets their own
    entry, so that it appears in their access log. The filter and the
    per-patient decision are the same rules (the tests check they agree).
    """
    wanted = allowed_relations(user, Action.PATIENT_SEARCH)
    if not wanted:
        _refuse_search(user, described_as)
    matching: QuerySet[Patient] = (
        Patient.objects.filter(visible_patients_q(user, Action.PATIENT_SEARCH))
        .filter(criteria)
        .select_related("commune", "treating_doctor")
        .order_by(*order_by, "birth_name", "first_birth_given_name", "birth_date", "pk")
    )
    patients, total = _page_and_total(matching, offset, limit)
    relations = relations_to(user, patients, wanted)
    events = [
        Event(
            action=Action.SEARCH,
            detail={**(described_as or {}), "results": total, "offset": offset},
        )
    ]
    # A patient listed through a reasoned relation (emergency, regulation
    # case) gets its reason on her entry too, as every read it grants does.
    events += [
        Event(
            action=Action.PATIENT_SEARCH,
            patient=p,
            basis=relations.get(p.pk, ""),
            reason=_reason(user, p, relations[p.pk]) if relations.get(p.pk) in REASONED else "",
        )
        for p in patients
    ]
    record_many(user, events)
    return SearchPage(patients, total, offset, limit, relations)


def _page_and_total(
    matching: QuerySet[Patient], offset: int, limit: int
) -> tuple[list[Patient], int]:
    """One page and how many match in all, in one statement (a window count).

    The filter is the search's cost (at the regional size, the name's trigram
    candidates each decided by the policy's relations): a count then a page
    ran it twice. Past the last page, or for no page at all (FHIR's
    ``_count=0``), there is no row to carry the count: it is asked on its own.
    """
    if limit <= 0:
        return [], matching.count()
    counted = matching.annotate(matching_total=Window(Count("pk")))
    rows: list[Patient] = list(counted[offset : offset + limit])
    if rows:
        return rows, int(getattr(rows[0], "matching_total"))  # noqa: B009 (an annotation)
    return rows, matching.count() if offset else 0


def search_own_identity(
    user: User,
    criteria: Q,
    *,
    offset: int = 0,
    limit: int = 20,
    described_as: Mapping[str, Any] | None = None,
) -> SearchPage:
    """A patient's search of patients: herself if she matches ``criteria``, nobody else.

    A patient searches nobody (PATIENT_SEARCH), but her app begins by asking
    for the patients it may see, to learn her id. What it finds is what she
    may read of herself: PATIENT_READ, decided and audited as a read, on her
    own record only, whatever the criteria name.
    """
    own = own_patient(user)
    if own is None or Relation.SELF not in allowed_relations(user, Action.PATIENT_READ):
        _refuse_search(user, described_as)
    found = (
        Patient.objects.filter(pk=own.pk)
        .filter(criteria)
        .select_related("commune", "treating_doctor")
        .first()
    )
    total = int(found is not None)
    record(
        user,
        Event(
            action=Action.SEARCH,
            detail={**(described_as or {}), "results": total, "offset": offset},
        ),
    )
    if found is None or offset > 0 or limit <= 0:
        return SearchPage([], total, offset, limit)
    try:
        opened = access_patient(user, found, Action.PATIENT_READ, detail={"search": True})
    except PatientNotFound:
        return SearchPage([], 0, offset, limit)
    return SearchPage([found], total, offset, limit, {found.pk: opened.relation})


def patients_per_departement() -> dict[str, int]:
    """How many patients live in each département: a count, never a row.

    For the territory's aggregated indicators, which hide small cells; the
    policy keeps the read so that no module outside it touches ``Patient``.
    """
    rows = Patient.objects.values_list("commune__departement").annotate(n=Count("pk"))
    return {departement: n for departement, n in rows if departement}


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


# --- The shared record -------------------------------------------------------------


@dataclass
class RecordAccess:
    """An opened record: who, on what basis, under which consents; what it shows."""

    subject: Subject
    relation: Relation

    @property
    def user(self) -> User:
        return self.subject.user

    @property
    def patient(self) -> Patient:
        return self.subject.patient

    @property
    def state(self) -> RecordState:
        return self.subject.state

    @property
    def is_patient(self) -> bool:
        return self.relation == Relation.SELF

    @property
    def is_treating_doctor(self) -> bool:
        return self.subject.is_treating_doctor

    def shows(self, document: Document) -> bool:
        return document_rule(self.subject, self.relation, document) in {
            Rule.BY_RELATION,
            Rule.AUTHOR,
        }

    def documents(self, *, include_history: bool = False) -> list[Document]:
        """The documents of this record the user may see, newest first."""
        documents = (
            Document.objects.filter(patient=self.patient)
            .select_related("author")
            .prefetch_related("document_files__file")
        )
        if not include_history:
            documents = documents.filter(status=DocumentStatus.CURRENT)
        return [d for d in documents if self.shows(d)]

    def visible_ids(self, documents: Iterable[Document]) -> set[int]:
        return {d.pk for d in documents if self.shows(d)}

    def allows(self, purpose: str) -> bool:
        """The same decision, unaudited: only to shape the page of this audited access."""
        return decide(self.subject, purpose).granted

    def writable_types(self) -> list[str]:
        """Types of document this user may add to the record."""
        if not self.allows(Action.DOCUMENT_CREATE):
            return []
        return [t for t, (_read, write) in self.subject.matrix.items() if write]


def open_record(
    user: User,
    patient: Patient,
    purpose: str = Action.RECORD_READ,
    *,
    detail: Mapping[str, Any] | None = None,
) -> RecordAccess:
    """Open a patient's shared record, audited; PatientNotFound when refused."""
    subject = Subject.of(user, patient)
    decision = decide(subject, purpose)
    audit_decision(user, patient, decision, detail=detail)
    if not decision.granted or decision.relation is None:
        raise PatientNotFound
    return RecordAccess(subject, decision.relation)


def open_record_by_id(
    user: User,
    patient_uuid: object,
    purpose: str = Action.RECORD_READ,
    *,
    detail: Mapping[str, Any] | None = None,
) -> RecordAccess:
    patient = load_patient(patient_uuid)
    if patient is None:
        _refuse_unknown(user, purpose, "unknown_id", patient_uuid)
        raise PatientNotFound
    return open_record(user, patient, purpose, detail=detail)


def record_for_change(
    user: User, patient: Patient, purpose: str, *, detail: Mapping[str, Any] | None = None
) -> tuple[RecordAccess, Grant]:
    """A record opened for a change: the action closes the grant with what happened."""
    subject = Subject.of(user, patient)
    decision = decide(subject, purpose)
    if not decision.granted or decision.relation is None:
        audit_decision(user, patient, decision, detail=detail)
        raise PatientNotFound
    return RecordAccess(subject, decision.relation), Grant(
        user, patient, decision, dict(detail or {})
    )


def _load_document(document_uuid: object) -> Document | None:
    if not _is_uuid(document_uuid):
        return None
    return (
        Document.objects.select_related("patient", "author")
        .filter(uuid=uuid.UUID(str(document_uuid)))
        .first()
    )


def decide_document(user: User, document: Document, purpose: str) -> tuple[Decision, Subject]:
    subject = Subject.of(user, document.patient)
    return decide(subject, purpose, document=document), subject


def get_document(
    user: User, document_uuid: object, purpose: str = Action.DOCUMENT_READ
) -> tuple[Document, RecordAccess]:
    """A document through the policy, for reading: one audit entry naming it (never its title)."""
    document = _load_document(document_uuid)
    if document is None:
        _refuse_unknown(user, purpose, "unknown_id", document_uuid)
        raise DocumentNotFound
    decision, subject = decide_document(user, document, purpose)
    audit_decision(
        user,
        document.patient,
        decision,
        detail={"document": str(document.uuid), "type": document.type},
    )
    if not decision.granted or decision.relation is None:
        raise DocumentNotFound
    return document, RecordAccess(subject, decision.relation)


def document_for_change(
    user: User, document_uuid: object, purpose: str
) -> tuple[Document, RecordAccess, Grant]:
    """A document opened for a change (replace, withdraw); the action closes the grant."""
    document = _load_document(document_uuid)
    if document is None:
        _refuse_unknown(user, purpose, "unknown_id", document_uuid)
        raise DocumentNotFound
    decision, subject = decide_document(user, document, purpose)
    detail = {"document": str(document.uuid), "type": document.type}
    if not decision.granted or decision.relation is None:
        audit_decision(user, document.patient, decision, detail=detail)
        raise DocumentNotFound
    grant = Grant(user, document.patient, decision, detail)
    return document, RecordAccess(subject, decision.relation), grant


def get_document_file(user: User, file_uuid: object) -> tuple[Document, StoredFile]:
    """A stored file through the documents that hold it: the first one the user may see.

    Every document tried is a decided (and audited) read; a file held by no
    document is refused like an unknown document, and audited so.
    """
    key = uuid.UUID(str(file_uuid)) if _is_uuid(file_uuid) else uuid.UUID(int=0)
    holders = list(
        Document.objects.filter(document_files__file__uuid=key)
        .order_by("-created_at")
        .values_list("uuid", flat=True)
    )
    if not holders:
        _refuse_unknown(user, Action.DOCUMENT_READ, "unknown_file", file_uuid)
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


def consents_of(access: RecordAccess) -> list[Consent]:
    """The patient's statements, newest first: to the patient who opened her consents."""
    if not access.is_patient:
        return []
    return list(
        Consent.objects.filter(patient=access.patient)
        .select_related("professional", "document")
        .order_by("-recorded_at", "-pk")
    )


def own_consent(user: User, patient: Patient, consent_uuid: object) -> Consent | None:
    """One of the patient's own statements (the action that changes it decides and audits)."""
    if patient.user_id != user.pk or not _is_uuid(consent_uuid):
        return None
    return Consent.objects.filter(patient=patient, uuid=uuid.UUID(str(consent_uuid))).first()


def own_care_team_place(user: User, patient: Patient, member_id: object) -> CareTeamMember | None:
    if patient.user_id != user.pk or not str(member_id).isdigit() or len(str(member_id)) > 18:
        return None
    return (
        CareTeamMember.objects.filter(patient=patient, pk=int(str(member_id)))
        .select_related("professional")
        .first()
    )


def consent_state(access: PatientAccess | RecordAccess) -> RecordState:
    """The consents in force, to a caller that already passed the policy."""
    return access.subject.state


def current_break_glass(opened: RecordAccess) -> BreakGlassAccess | None:
    """The emergency opening an opened record stands on, to show its end time."""
    if opened.relation != Relation.BREAK_GLASS:
        return None
    return (
        BreakGlassAccess.objects.filter(user=opened.user, patient=opened.patient)
        .order_by("-expires_at")
        .first()
    )


def review_listing(user: User) -> list[BreakGlassAccess]:
    """Emergency accesses shown to an administrator for review, each one audited.

    The reviewer sees who the patient is (to judge the access), never the
    record itself; the patient sees the review in their access log.
    """
    if user.role != Role.ADMIN:
        return []
    shown = list(
        BreakGlassAccess.objects.filter(reviewed_at__isnull=True)
        .select_related("user", "patient")
        .order_by("started_at")[:100]
    )
    audit_review_listing(user, Action.BREAK_GLASS_REVIEW, "access", shown)
    return shown


def audit_review_listing(user: User, action: str, key: str, shown: Iterable[Any]) -> None:
    """An administrator was shown these openings to review: one entry on each patient."""
    record_many(
        user,
        [
            Event(
                action=action,
                patient=item.patient,
                basis="review",
                detail={key: str(item.uuid), "step": "listed"},
            )
            for item in shown
        ],
    )


def reviewed_break_glass(user: User) -> list[BreakGlassAccess]:
    if user.role != Role.ADMIN:
        return []
    return list(
        BreakGlassAccess.objects.filter(reviewed_at__isnull=False)
        .select_related("user", "patient", "reviewed_by")
        .order_by("-reviewed_at")[:20]
    )


def break_glass_to_review(user: User, access_uuid: object) -> BreakGlassAccess | None:
    if user.role != Role.ADMIN or not _is_uuid(access_uuid):
        return None
    return (
        BreakGlassAccess.objects.filter(uuid=uuid.UUID(str(access_uuid)))
        .select_related("patient")
        .first()
    )


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


__all__ = [
    "DocumentNotFound",
    "Grant",
    "IdentityEvidence",
    "NotAllowed",
    "PatientAccess",
    "PatientNotFound",
    "RecordAccess",
    "Relation",
    "record_state",
]
