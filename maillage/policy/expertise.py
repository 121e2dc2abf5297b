"""Tele-expertise in the one policy: who takes part in a request, and what they may see of it.

A request brings people to a patient: its requester, its specialist (while
it is open and for ``MAILLAGE_EXPERTISE_ACCESS_DAYS`` after it ends) and,
while nobody has taken it, the members of its pool who answer
tele-expertise. That is ``Relation.EXPERTISE`` (``participating`` is its
computation, for ``relations_to`` and ``relation_q`` alike); the table then
says which roles it opens EXPERTISE_READ, EXPERTISE_WRITE and
EXPERTISE_DOCUMENT to. Since the relation is about the patient, and a
patient may have several requests, each opening also checks that *this*
request is the user's (rule ``not_participant``), as a thread's participant
is checked in ``policy.messages``.

The record itself is opened to the specialist by the care-team place the
act gives (``expertise.actions``), through the usual CARE_TEAM relation, so
the patient sees it and may end it. A record document shared with a
request is decided again for each reader, each time, by the document rules
(a document masked after it was shared is no longer shown).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from maillage.audit.actions import Event, record_many
from maillage.audit.models import Action, Outcome
from maillage.directory.terminology import TELEEXPERTISE_RESPONDERS
from maillage.expertise.models import (
    OPEN_STATUSES,
    Attachment,
    Message,
    PoolMember,
    Request,
    Status,
)
from maillage.policy import listing
from maillage.policy.consents import record_state
from maillage.policy.decide import Decision, Subject, decide, document_rule, relation_rule
from maillage.policy.gate import Grant, audit_decision
from maillage.policy.measurements import shared_readings
from maillage.policy.relations import Relation, professional_id_of
from maillage.policy.table import allowed_relations
from maillage.records.models import Consent, ConsentKind, Document

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.files.models import StoredFile
    from maillage.measurements.models import Observation
    from maillage.patients.models import Patient

NOT_PARTICIPANT = "not_participant"


class RequestNotFound(Http404):
    """A missing request and a refused one look the same."""


class Side(enum.StrEnum):
    REQUESTER = "requester"
    SPECIALIST = "specialist"
    # A member of the request's pool who answers tele-expertise, before anyone took it.
    POOL = "pool"


def access_days() -> dt.timedelta:
    return dt.timedelta(days=float(settings.MAILLAGE_EXPERTISE_ACCESS_DAYS))


def _specialist_q(professional_id: int, now: dt.datetime) -> Q:
    ended_since = now - access_days()
    return Q(assignee_id=professional_id) & (
        Q(status__in=OPEN_STATUSES)
        | Q(concluded_at__gt=ended_since)
        | Q(cancelled_at__gt=ended_since)
    )


def _pool_q(professional_id: int) -> Q:
    # As routing reaches them (``expertise.actions.answering``): a member whose
    # directory entry was closed is sent nothing, and reads nothing either; nor
    # a profession that never answers (STANDARDS.md), whatever its flag says.
    # The pools as a subquery, not a join: joined, a request came once per
    # member of its pool in every list built on ``participating``.
    return Q(
        status=Status.WAITING,
        assignee__isnull=True,
        pool__active=True,
        pool_id__in=PoolMember.objects.filter(
            professional_id=professional_id,
            professional__accepts_teleexpertise=True,
            professional__active=True,
            professional__profession__in=TELEEXPERTISE_RESPONDERS,
        ).values("pool_id"),
    )


def participating(user: User) -> QuerySet[Request]:
    """The requests the user takes part in now: the relation EXPERTISE, as rows."""
    q = Q(requester_id=user.pk)
    professional_id = professional_id_of(user)
    if professional_id is not None:
        now = timezone.now()
        # A request never sent (a draft, or a draft the requester dropped:
        # cancelled, its specialist named) is the requester's alone.
        q |= Q(submitted_at__isnull=False) & (
            _specialist_q(professional_id, now) | _pool_q(professional_id)
        )
    return Request.objects.filter(q)


def side_of(user: User, request: Request) -> Side | None:
    """How the user takes part in this request now, if at all (as ``participating`` says)."""
    if request.requester_id == user.pk:
        return Side.REQUESTER
    professional_id = professional_id_of(user)
    if professional_id is None or request.submitted_at is None:
        return None
    if request.assignee_id == professional_id:
        if request.status in OPEN_STATUSES:
            return Side.SPECIALIST
        ended = request.concluded_at or request.cancelled_at
        if ended is not None and ended > timezone.now() - access_days():
            return Side.SPECIALIST
        return None
    if participating(user).filter(pk=request.pk).filter(_pool_q(professional_id)).exists():
        return Side.POOL
    return None


@dataclass
class RequestAccess:
    """A request as one participant may see it."""

    subject: Subject
    request: Request
    side: Side

    @property
    def user(self) -> User:
        return self.subject.user

    @property
    def patient(self) -> Patient:
        return self.subject.patient

    def shows(self, document: Document) -> bool:
        return _document_decision(self.subject, document).granted

    def documents(self) -> list[Document]:
        """The shared documents this reader may see now (the page's read is audited)."""
        return [d for d in self.request.documents.select_related("author") if self.shows(d)]

    def readings(self) -> list[Observation]:
        """The shared readings this reader may see now, on the relation EXPERTISE (the
        page's read is audited): the measurements' rule, as in the record."""
        chosen = self.request.readings.select_related("performer", "device")
        return list(shared_readings(self.subject, Relation.EXPERTISE, chosen))


def _document_decision(subject: Subject, document: Document) -> Decision:
    return decide(subject, Action.EXPERTISE_DOCUMENT, document=document)


def _load(request_uuid: object) -> Request | None:
    if not _is_uuid(request_uuid):
        return None
    return (
        Request.objects.select_related(
            "patient", "patient__treating_doctor", "pool", "assignee", "priority", "requester"
        )
        .filter(uuid=uuid.UUID(str(request_uuid)))
        .first()
    )


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _decide(user: User, request: Request, purpose: str) -> tuple[Subject, Decision, Side | None]:
    subject = Subject.of(user, request.patient)
    decision = decide(subject, purpose)
    side = side_of(user, request) if decision.granted else None
    if decision.granted and side is None:
        decision = Decision(purpose, None, NOT_PARTICIPANT)
    return subject, decision, side


def open_request(
    user: User,
    request_uuid: object,
    purpose: str = Action.EXPERTISE_READ,
    *,
    detail: Mapping[str, Any] | None = None,
) -> RequestAccess:
    """A request through the policy, its read audited; RequestNotFound for anyone it refuses."""
    request = _load(request_uuid)
    if request is None:
        record_many(
            user,
            [
                Event(
                    action=purpose, outcome=Outcome.DENIED, detail={"unknown_id": str(request_uuid)}
                )
            ],
        )
        raise RequestNotFound
    subject, decision, side = _decide(user, request, purpose)
    audit_decision(
        user, request.patient, decision, detail={"request": str(request.uuid), **(detail or {})}
    )
    if side is None:
        raise RequestNotFound
    return RequestAccess(subject, request, side)


@dataclass
class Peeked:
    """A request opened for a change whose action writes the audit entry (one per change).

    Only a refusal is audited when peeking; if no action follows (nothing
    changed, or the change was refused before any action), ``audit`` writes
    the opening, so that the call still leaves exactly one entry.
    """

    access: RequestAccess
    decision: Decision

    def audit(self, **detail: Any) -> None:
        audit_decision(
            self.access.user,
            self.access.patient,
            self.decision,
            detail={"request": str(self.access.request.uuid), **detail},
        )


def peek_request(
    user: User,
    request_uuid: object,
    purpose: str = Action.EXPERTISE_READ,
    *,
    detail: Mapping[str, Any] | None = None,
) -> Peeked:
    """As ``open_request``, for a caller that goes on to one action (the action audits)."""
    request = _load(request_uuid)
    if request is None:
        open_request(user, request_uuid, purpose, detail=detail)  # audits the refusal, raises
        raise RequestNotFound
    subject, decision, side = _decide(user, request, purpose)
    if side is None:
        audit_decision(
            user, request.patient, decision, detail={"request": str(request.uuid), **(detail or {})}
        )
        raise RequestNotFound
    return Peeked(RequestAccess(subject, request, side), decision)


def request_for_change(
    user: User,
    request_uuid: object,
    sides: Iterable[Side],
    *,
    detail: Mapping[str, Any] | None = None,
) -> tuple[RequestAccess, Grant]:
    """A request opened for a change by one of ``sides``; the action closes the grant.

    A participant on another side (the requester trying to conclude) is
    refused like a stranger: the rule says ``not_participant``.
    """
    request = _load(request_uuid)
    purpose = Action.EXPERTISE_WRITE
    full_detail = {"request": str(request_uuid), **(detail or {})}
    if request is None:
        record_many(
            user,
            [
                Event(
                    action=purpose, outcome=Outcome.DENIED, detail={"unknown_id": str(request_uuid)}
                )
            ],
        )
        raise RequestNotFound
    subject, decision, side = _decide(user, request, purpose)
    if side is not None and side not in set(sides):
        decision, side = Decision(purpose, None, NOT_PARTICIPANT), None
    if side is None:
        audit_decision(user, request.patient, decision, detail=full_detail)
        raise RequestNotFound
    return RequestAccess(subject, request, side), Grant(
        user, request.patient, decision, full_detail
    )


def request_of_message(message_uuid: uuid.UUID) -> uuid.UUID | None:
    """The request a message is in, unchecked: only to ask ``open_request`` about it."""
    return Message.objects.filter(uuid=message_uuid).values_list("request__uuid", flat=True).first()


def shared_document(access: RequestAccess, document_uuid: object) -> Document:
    """A record document shared with the request, decided for this reader now, audited."""
    document = (
        access.request.documents.select_related("patient", "author")
        .filter(uuid=uuid.UUID(str(document_uuid)))
        .first()
        if _is_uuid(document_uuid)
        else None
    )
    if document is None:
        raise RequestNotFound
    decision = _document_decision(access.subject, document)
    audit_decision(
        access.user,
        access.patient,
        decision,
        detail={"request": str(access.request.uuid), "document": str(document.uuid)},
    )
    if not decision.granted:
        raise RequestNotFound
    return document


def attachment_of(user: User, file_uuid: object) -> tuple[RequestAccess, StoredFile]:
    """A file sent with a request, for one of its participants (the read is audited)."""
    if not _is_uuid(file_uuid):
        raise RequestNotFound
    attachment = (
        Attachment.objects.select_related("request", "file")
        .filter(file__uuid=uuid.UUID(str(file_uuid)))
        .first()
    )
    if attachment is None:
        raise RequestNotFound
    access = open_request(user, attachment.request.uuid, detail={"file": str(file_uuid)})
    if (
        attachment.message_id is None
        and access.side != Side.REQUESTER
        and (access.request.status == Status.DRAFT)
    ):
        raise RequestNotFound
    return access, attachment.file


def not_opposed_q(user: User) -> Q:
    """Requests whose patient has not opposed the user: a list names no one that reading refuses.

    Rule 3 as a filter on request rows (``gate.visible_patients_q`` does the
    same for patient lists): the opposition closes every purpose, so a list
    that would name the patient leaves her request out.
    """
    professional_id = professional_id_of(user)
    if professional_id is None:
        return Q()
    return ~Q(
        patient_id__in=Consent.objects.filter(
            kind=ConsentKind.OPPOSE_PROFESSIONAL,
            professional_id=professional_id,
            withdrawn_at__isnull=True,
        ).values("patient_id")
    )


def audit_listed(user: User, requests: Sequence[Request]) -> None:
    """A list of requests shows each patient's name: one read entry per patient shown."""
    listing.audit_listed(user, requests, Action.EXPERTISE_READ, Relation.EXPERTISE)


def billed_by(user: User, start: dt.datetime, end: dt.datetime) -> list[Request]:
    """The requests concluded in [start, end) whose acts the user bills: asked or answered by
    their directory entry (RQD or TE2). Read whether the user takes part now or not: billing
    is owed after the access ends; whether the patient is shown is ``shows_patient``'s."""
    professional_id = professional_id_of(user)
    if professional_id is None:
        return []
    return list(
        Request.objects.filter(
            Q(requester_professional_id=professional_id) | Q(assignee_id=professional_id),
            status=Status.CONCLUDED,
            concluded_at__gte=start,
            concluded_at__lt=end,
        )
        .select_related("patient")
        .order_by("concluded_at", "pk")
    )


def shows_patient(user: User, request: Request) -> bool:
    """May the user read this request now (so see whom it is about)? Decided, not audited:
    the caller audits the patients it shows (``audit_listed``)."""
    subject = Subject.of(user, request.patient)
    return decide(subject, Action.EXPERTISE_READ).granted and side_of(user, request) is not None


# --- Receivers --------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """A receiver the request cannot go to, or a shared document one of them may not see."""

    user: User
    document: Document | None
    rule: str


def receiver_refusals(
    sender: User, patient: Patient, receivers: Sequence[User], documents: Sequence[Document]
) -> list[Refused]:
    """Decide each receiver of a request as the reader they are about to become, and each document.

    A receiver takes part once the request is sent: their role must open
    EXPERTISE_READ by the relation EXPERTISE, the patient must not have
    opposed them, and each shared document must pass the document rules for
    them. Refusals are audited now, on the patient, naming the receiver.
    """
    state = record_state(patient)
    refused: list[Refused] = []
    for receiver in receivers:
        subject = Subject.of(receiver, patient, state)
        if Relation.EXPERTISE not in allowed_relations(receiver, Action.EXPERTISE_READ):
            refused.append(Refused(receiver, None, "role"))
            continue
        rule = relation_rule(subject, Action.EXPERTISE_READ, Relation.EXPERTISE)
        if rule is not None:
            refused.append(Refused(receiver, None, rule))
            continue
        for document in documents:
            rule = document_rule(subject, Relation.EXPERTISE, document)
            if rule not in {"by_relation", "author"}:
                refused.append(Refused(receiver, document, rule))
    record_many(
        sender,
        [
            Event(
                action=Action.EXPERTISE_DOCUMENT if r.document else Action.EXPERTISE_READ,
                outcome=Outcome.DENIED,
                patient=patient,
                detail={
                    "receiver": f"user:{r.user.pk}",
                    "rule": r.rule,
                    **({"document": str(r.document.uuid)} if r.document else {}),
                },
            )
            for r in refused
        ],
    )
    return refused


def opposed_receivers(patient: Patient, receivers: Sequence[User]) -> set[int]:
    """The receivers the patient opposed (a pool routes around them, unaudited: nothing is sent)."""
    state = record_state(patient)
    return {r.pk for r in receivers if professional_id_of(r) in state.opposed_professionals}


def held_by_opposed() -> QuerySet[Request]:
    """Open requests whose specialist the patient has since opposed (she decided, CSP L.1110-4):
    he may no longer read them, so they must not wait for him."""
    opposed = Consent.objects.filter(
        kind=ConsentKind.OPPOSE_PROFESSIONAL,
        withdrawn_at__isnull=True,
        patient_id=OuterRef("patient_id"),
        professional_id=OuterRef("assignee_id"),
    )
    return Request.objects.filter(status__in=OPEN_STATUSES, assignee__isnull=False).filter(
        Exists(opposed)
    )


def audit_released(request: Request, outcome: str) -> None:
    """The platform released a request after the patient's opposition: one entry, no actor."""
    record_many(
        None,
        [
            Event(
                action=Action.EXPERTISE_WRITE,
                outcome=Outcome.GRANTED,
                patient=request.patient,
                reason="patient_opposed_specialist",
                detail={"request": str(request.uuid), "step": "released", "then": outcome},
            )
        ],
    )
