"""Every change of a tele-expertise request: ask (draft, submit), route, answer, conclude.

Each function takes what the policy opened (``policy.expertise``) and
closes its grant once, inside the transaction that writes: one audit entry
per decision. Status changes are conditional UPDATEs on the status they
start from, so two specialists claiming at once, or a reply crossing a
conclusion, change the row once; the loser is told in French and nothing
already saved is lost.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.audit.models import Action
from maillage.directory.models import Professional
from maillage.directory.terminology import TELEEXPERTISE_RESPONDERS, Profession
from maillage.expertise import figures, notify
from maillage.expertise.models import (
    ANSWER_KINDS,
    OPEN_STATUSES,
    Attachment,
    Message,
    MessageKind,
    Pool,
    PoolMember,
    Priority,
    Recommendation,
    Request,
    Status,
)
from maillage.files import storage
from maillage.files.storage import RejectedUpload, Upload
from maillage.measurements.models import Observation
from maillage.policy import expertise as policy
from maillage.policy import measurements as measurements_policy
from maillage.policy.expertise import RequestAccess, Side
from maillage.policy.gate import (
    Grant,
    PatientNotFound,
    authorize,
    decide_document,
    load_patient,
)
from maillage.records.models import CareTeamMember, CareTeamReason, Document

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.patients.models import Patient

# Who may ask (STANDARDS.md): doctors, midwives, nurses, physiotherapists,
# orthoptists, speech therapists. Only doctors and midwives answer.
REQUESTER_PROFESSIONS = frozenset(
    {
        Profession.DOCTOR,
        Profession.MIDWIFE,
        Profession.NURSE,
        Profession.PHYSIOTHERAPIST,
        Profession.ORTHOPTIST,
        Profession.SPEECH_THERAPIST,
    }
)
MAX_TEXT = 5000
MAX_ATTACHMENTS = 10
MAX_DOCUMENTS = 20
MAX_READINGS = 20


class ExpertiseRuleBroken(Exception):
    """A change refused for a reason the person can fix; ``message`` is in their language."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Ask:
    """A request as the requester composed it (a draft may leave any of it empty)."""

    question: str = ""
    priority: str = ""
    pool_uuid: object = None
    specialist_uuid: object = None
    document_uuids: Sequence[object] = ()
    reading_uuids: Sequence[object] = ()
    uploads: Sequence[Upload] = ()
    consent: bool = False
    # When the patient's consent was recorded, if the requester says (the API's
    # oral-consent time); now otherwise, and never later than now.
    consent_at: dt.datetime | None = None


@dataclass(frozen=True)
class Conclusion:
    text: str
    recommendation: str = Recommendation.NONE
    uploads: Sequence[Upload] = field(default_factory=tuple)


class _Lost(Exception):
    """A step lost to a concurrent change, found inside its transaction."""

    def __init__(self, failure: str, message: str) -> None:
        super().__init__(failure)
        self.failure = failure
        self.message = message


@contextmanager
def _changing(grant: Grant) -> Iterator[None]:
    """The step's transaction; a step lost inside it is audited after the rollback, then told.

    Written inside, the failure's entry would be rolled back with the step.
    """
    try:
        with transaction.atomic():
            yield
    except _Lost as lost:
        grant.failed(lost.failure)
        raise ExpertiseRuleBroken(lost.message) from None


# --- Checks (nothing written) -------------------------------------------------------


def requester_entry(user: User) -> Professional:
    entry = Professional.objects.filter(user_id=user.pk, active=True).first()
    if entry is None or entry.profession not in REQUESTER_PROFESSIONS:
        raise ExpertiseRuleBroken(_("Your profession does not ask for tele-expertise."))
    return entry


def _text(value: str, field_name: str, *, required: bool) -> str:
    text = value.strip()
    if required and not text:
        raise ExpertiseRuleBroken(_("Write your message."), field_name)
    if len(text) > MAX_TEXT:
        raise ExpertiseRuleBroken(
            _("At most %(count)d characters.") % {"count": MAX_TEXT}, field_name
        )
    return text


def _check_uploads(uploads: Sequence[Upload], already: int = 0) -> None:
    if already + len(uploads) > MAX_ATTACHMENTS:
        raise ExpertiseRuleBroken(
            _("At most %(count)d attachments.") % {"count": MAX_ATTACHMENTS}, "uploads"
        )
    for upload in uploads:
        try:
            storage.check(upload.data, upload.name)
        except RejectedUpload as refused:
            raise ExpertiseRuleBroken(refused.message, "uploads") from refused


def _priority(code: str) -> Priority | None:
    return Priority.objects.filter(code=code).first() if code else None


def _uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def answering(professionals: Any) -> Any:
    """The directory entries that answer tele-expertise now (flag, account, activity)."""
    return professionals.filter(
        accepts_teleexpertise=True,
        active=True,
        profession__in=TELEEXPERTISE_RESPONDERS,
        user__isnull=False,
        user__is_active=True,
    )


def pool_responders(pool: Pool) -> list[Professional]:
    return list(
        answering(Professional.objects.filter(expertise_pools__pool=pool)).select_related("user")
    )


def _target(ask: Ask) -> tuple[Pool | None, Professional | None]:
    pool_id = _uuid_or_none(ask.pool_uuid)
    specialist_id = _uuid_or_none(ask.specialist_uuid)
    pool = Pool.objects.filter(uuid=pool_id, active=True).first() if pool_id else None
    specialist = (
        answering(Professional.objects.filter(uuid=specialist_id)).first()
        if specialist_id
        else None
    )
    if ask.pool_uuid and pool is None:
        raise ExpertiseRuleBroken(_("Choose a pool from the list."), "pool")
    if ask.specialist_uuid and specialist is None:
        raise ExpertiseRuleBroken(
            _("This professional does not answer tele-expertise."), "specialist"
        )
    return pool, specialist


def _documents(user: User, patient: Patient, uuids: Sequence[object]) -> list[Document]:
    """Record documents the requester may read, of this patient (each decided, unaudited:
    the requester read them in the record; each reader is decided when shown)."""
    wanted = [u for u in (_uuid_or_none(v) for v in uuids) if u is not None]
    if len(wanted) > MAX_DOCUMENTS:
        raise ExpertiseRuleBroken(
            _("At most %(count)d documents.") % {"count": MAX_DOCUMENTS}, "documents"
        )
    documents = list(
        Document.objects.filter(uuid__in=wanted, patient=patient).select_related("patient")
    )
    if len(documents) != len(set(wanted)):
        raise ExpertiseRuleBroken(_("A chosen document is not in this record."), "documents")
    for document in documents:
        decision, _subject = decide_document(user, document, Action.DOCUMENT_READ)
        if not decision.granted:
            raise ExpertiseRuleBroken(_("A chosen document is not in this record."), "documents")
    return documents


def _readings(user: User, patient: Patient, uuids: Sequence[object]) -> list[Observation]:
    """The patient's readings the requester may read, chosen as context (decided, unaudited:
    the ask page opened the record; each reader is decided when shown)."""
    wanted = {u for u in (_uuid_or_none(v) for v in uuids) if u is not None}
    if not wanted:
        return []
    if len(wanted) > MAX_READINGS:
        raise ExpertiseRuleBroken(
            _("At most %(count)d measurements.") % {"count": MAX_READINGS}, "readings"
        )
    not_here = ExpertiseRuleBroken(_("A chosen measurement is not in this record."), "readings")
    mine = measurements_policy.readings_decided(user, patient)
    if mine is None:
        raise not_here
    chosen = Observation.objects.filter(uuid__in=wanted)
    readings = list(measurements_policy.shared_readings(mine.subject, mine.relation, chosen))
    if len(readings) != len(wanted):
        raise not_here
    return readings


# --- Asking ------------------------------------------------------------------------


def save_draft(user: User, patient_uuid: object, ask: Ask, draft_uuid: object = None) -> Request:
    """Keep what the requester wrote so far; a new draft, or the requester's own one changed."""
    entry = requester_entry(user)
    patient = load_patient(patient_uuid)
    if patient is None:
        raise PatientNotFound
    question = _text(ask.question, "question", required=False)
    draft = None
    if draft_uuid:
        draft = Request.objects.filter(
            uuid=str(_uuid_or_none(draft_uuid)),
            requester=user,
            patient=patient,
            status=Status.DRAFT,
        ).first()
        if draft is None:
            raise ExpertiseRuleBroken(_("This draft was sent or cancelled meanwhile."))
    _check_uploads(ask.uploads, draft.attachments.count() if draft else 0)
    grant = authorize(
        user, patient, Action.EXPERTISE_ASK, detail={"draft": str(draft.uuid) if draft else "new"}
    )
    try:
        pool, specialist = _target(ask)
        documents = _documents(user, patient, ask.document_uuids)
        readings = _readings(user, patient, ask.reading_uuids)
        priority = _priority(ask.priority) or Priority.objects.order_by("-hours").first()
        if priority is None:
            raise ExpertiseRuleBroken(_("Choose a priority from the list."), "priority")
    except ExpertiseRuleBroken as broken:
        # The grant says how the attempt ended, once: a wrong choice is a failure.
        grant.failed(broken.field or "invalid")
        raise
    now = timezone.now()
    with transaction.atomic():
        if draft is None:
            draft = Request.objects.create(
                patient=patient,
                requester=user,
                requester_professional=entry,
                priority=priority,
                created_at=now,
            )
        draft.question = question
        draft.pool = pool
        draft.assignee = specialist
        draft.priority = priority
        draft.updated_at = now
        if ask.consent and draft.consent_recorded_at is None:
            recorded_at = min(ask.consent_at, now) if ask.consent_at else now
            draft.consent_recorded_by, draft.consent_recorded_at = user, recorded_at
        elif not ask.consent:
            draft.consent_recorded_by, draft.consent_recorded_at = None, None
        draft.save()
        draft.documents.set(documents)
        draft.readings.set(readings)
        _attach(draft, None, ask.uploads, user)
        grant.done(request=str(draft.uuid), draft=True)
    return draft


def _attach(request: Request, message: Message | None, uploads: Sequence[Upload], by: User) -> None:
    for upload in uploads:
        stored = storage.store(upload.data, upload.name, by=by)
        Attachment.objects.create(request=request, message=message, file=stored, added_by=by)


def _receivers(request: Request) -> tuple[list[User], list[Professional]]:
    """Who the request reaches when sent: the named specialist, or the pool's responders."""
    if request.assignee_id is not None:
        specialists = list(
            answering(Professional.objects.filter(pk=request.assignee_id)).select_related("user")
        )
    elif request.pool is not None:
        specialists = pool_responders(request.pool)
    else:
        specialists = []
    specialists = [p for p in specialists if p.user_id != request.requester_id]
    return [p.user for p in specialists if p.user is not None], specialists


def submit(user: User, draft_uuid: object) -> Request:
    """Send a draft: checked whole, each receiver decided, the clock started."""
    access, grant = policy.request_for_change(
        user, draft_uuid, {Side.REQUESTER}, detail={"step": "submit"}
    )
    request = access.request
    try:
        _check_complete(request)
        receivers, specialists = _receivers(request)
        if request.assignee_id is not None and not receivers:
            raise ExpertiseRuleBroken(
                _("This professional does not answer tele-expertise."), "specialist"
            )
        if request.pool is not None:
            opposed = policy.opposed_receivers(request.patient, receivers)
            receivers = [r for r in receivers if r.pk not in opposed]
        documents = list(request.documents.all())
        refused = policy.receiver_refusals(user, request.patient, receivers, documents)
        if refused:
            raise ExpertiseRuleBroken(_refusal_message(refused))
    except ExpertiseRuleBroken as broken:
        grant.failed("incomplete" if broken.field else "receiver_refused")
        raise
    now = timezone.now()
    hours = dt.timedelta(hours=request.priority.hours)
    with _changing(grant):
        changed = Request.objects.filter(pk=request.pk, status=Status.DRAFT).update(
            status=Status.WAITING,
            submitted_at=now,
            updated_at=now,
            due_at=now + hours,
            remind_half_at=now + hours * 0.5,
            remind_ninety_at=now + hours * 0.9,
            specialty=_specialty_of(request),
            asked_month=figures.month_of(now),
            version=F("version") + 1,
        )
        if changed != 1:
            raise _Lost("not_draft", _("This draft was sent or cancelled meanwhile."))
        message = _message(request, user, MessageKind.QUESTION, request.question, now)
        Attachment.objects.filter(request=request, message__isnull=True).update(message=message)
        grant.done(receivers=[f"user:{r.pk}" for r in receivers])
        request.refresh_from_db()
        notify.asked(request, receivers)
        if request.pool is not None and not specialists:
            notify.unstaffed(request)
            Request.objects.filter(pk=request.pk).update(unstaffed_sent_at=now)
    return request


def _specialty_of(request: Request) -> str:
    if request.pool is not None:
        return request.pool.specialty
    return request.assignee.specialty if request.assignee is not None else ""


def _check_complete(request: Request) -> None:
    if not request.question.strip():
        raise ExpertiseRuleBroken(_("Write the clinical question."), "question")
    if request.pool_id is None and request.assignee_id is None:
        raise ExpertiseRuleBroken(_("Choose a specialist or a pool."), "pool")
    if request.consent_recorded_at is None:
        raise ExpertiseRuleBroken(
            _("Record the patient's consent to the tele-expertise."), "consent"
        )


def _refusal_message(refused: Sequence[policy.Refused]) -> str:
    names = sorted({r.user.display_name for r in refused})
    documents = sorted({r.document.title for r in refused if r.document is not None})
    if documents:
        return _("These documents cannot be shared with %(who)s: %(documents)s.") % {
            "who": ", ".join(names),
            "documents": ", ".join(documents),
        }
    return _("The request cannot go to %(who)s.") % {"who": ", ".join(names)}


def _message(
    request: Request, author: User, kind: str, body: str, now: dt.datetime | None = None
) -> Message:
    return Message.objects.create(
        request=request,
        author=author,
        author_label=_label(author),
        kind=kind,
        body=body,
        created_at=now or timezone.now(),
    )


def _label(user: User) -> str:
    entry = Professional.objects.filter(user_id=user.pk).first()
    return entry.display_name if entry else user.display_name


# --- The specialist's side -------------------------------------------------------------


def claim(user: User, request_uuid: object) -> Request:
    """Take a waiting request (a pool's, or one addressed to me): one of several claimants wins."""
    access, grant = policy.request_for_change(
        user, request_uuid, {Side.POOL, Side.SPECIALIST}, detail={"step": "claim"}
    )
    request = access.request
    me = Professional.objects.get(user_id=user.pk)
    now = timezone.now()
    with _changing(grant):
        changed = (
            Request.objects.filter(pk=request.pk, status=Status.WAITING)
            .filter(assignee__isnull=True)
            .update(
                assignee=me,
                status=Status.CLAIMED,
                claimed_at=now,
                updated_at=now,
                version=F("version") + 1,
            )
        ) or Request.objects.filter(pk=request.pk, status=Status.WAITING, assignee=me).update(
            status=Status.CLAIMED, claimed_at=now, updated_at=now, version=F("version") + 1
        )
        if changed != 1:
            raise _Lost("taken", _("A colleague took this request first."))
        request.refresh_from_db()
        _open_care_team_place(request, me, user)
        _message(request, user, MessageKind.CLAIMED, "", now)
        grant.done()
        notify.taken(request, by=user)
    return request


def _open_care_team_place(request: Request, specialist: Professional, by: User) -> None:
    """The act puts the specialist in the patient's care team while it lasts (she sees it)."""
    place = CareTeamMember.objects.create(
        patient=request.patient,
        professional=specialist,
        reason=CareTeamReason.ACT,
        valid_until=None,
        added_by=by,
    )
    Request.objects.filter(pk=request.pk).update(care_team_place=place)
    request.care_team_place = place


def _close_care_team_place(request: Request, until: dt.datetime) -> None:
    if request.care_team_place_id is not None:
        CareTeamMember.objects.filter(pk=request.care_team_place_id, ended_at__isnull=True).update(
            valid_until=until
        )


def hand_over(user: User, request_uuid: object, colleague_uuid: object) -> Request:
    """The specialist hands the request to a colleague of one of the request's or their pools."""
    access, grant = policy.request_for_change(
        user, request_uuid, {Side.SPECIALIST}, detail={"step": "hand_over"}
    )
    request = access.request
    colleague = handover_colleagues(access).get(str(_uuid_or_none(colleague_uuid)))
    if colleague is None:
        grant.failed("not_a_colleague")
        raise ExpertiseRuleBroken(_("Choose a colleague from the list."), "colleague")
    refused = policy.receiver_refusals(
        user,
        request.patient,
        [u for u in [colleague.user] if u is not None],
        list(request.documents.all()),
    )
    if refused:
        grant.failed("receiver_refused")
        raise ExpertiseRuleBroken(_refusal_message(refused), "colleague")
    now = timezone.now()
    with _changing(grant):
        changed = Request.objects.filter(
            pk=request.pk, status__in=(Status.WAITING, Status.CLAIMED), assignee=request.assignee
        ).update(
            assignee=colleague, status=Status.WAITING, updated_at=now, version=F("version") + 1
        )
        if changed != 1:
            raise _Lost("not_open", _("This request changed meanwhile; look at it again."))
        _close_care_team_place(request, now)
        Request.objects.filter(pk=request.pk).update(care_team_place=None)
        _message(request, user, MessageKind.HANDED_OVER, colleague.display_name, now)
        grant.done(to=str(colleague.uuid))
        request.refresh_from_db()
        notify.asked(request, [u for u in [colleague.user] if u is not None])
        notify.changed(request, exclude=[user, *[u for u in [colleague.user] if u is not None]])
    return request


def handover_colleagues(access: RequestAccess) -> dict[str, Professional]:
    """Answering members of the request's pool and of the specialist's own pools, by uuid."""
    me = access.request.assignee
    pools = PoolMember.objects.filter(professional=me).values("pool_id")
    in_pools = Professional.objects.filter(expertise_pools__pool__in=pools)
    if access.request.pool_id is not None:
        in_pools |= Professional.objects.filter(expertise_pools__pool_id=access.request.pool_id)
    candidates = (
        answering(in_pools)
        .exclude(pk=me.pk if me else None)
        .exclude(user_id=access.request.requester_id)
    )
    return {str(p.uuid): p for p in candidates.select_related("user").distinct()}


def answer(user: User, request_uuid: object, body: str, uploads: Sequence[Upload] = ()) -> Message:
    """The specialist writes to the requester; the request stays with them."""
    return _specialist_writes(user, request_uuid, MessageKind.ANSWER, body, uploads)


def ask_for_more(
    user: User, request_uuid: object, body: str, uploads: Sequence[Upload] = ()
) -> Message:
    """The specialist asks back: the request waits for the requester, its clock paused."""
    return _specialist_writes(user, request_uuid, MessageKind.INFO_REQUEST, body, uploads)


def _specialist_writes(
    user: User, request_uuid: object, kind: str, body: str, uploads: Sequence[Upload]
) -> Message:
    text = _text(body, "body", required=True)
    _check_uploads(uploads)
    access, grant = policy.request_for_change(
        user, request_uuid, {Side.SPECIALIST}, detail={"step": kind}
    )
    request = access.request
    now = timezone.now()
    changes: dict[str, Any] = {"updated_at": now, "version": F("version") + 1}
    if kind == MessageKind.INFO_REQUEST:
        changes.update(status=Status.ON_HOLD, hold_started_at=now)
    with _changing(grant):
        changed = Request.objects.filter(pk=request.pk, status=Status.CLAIMED).update(**changes)
        if changed != 1:
            raise _Lost("not_claimed", _("Take the request before you answer it."))
        _first_answer(request, now)
        message = _message(request, user, kind, text, now)
        _attach(request, message, uploads, user)
        grant.done(message=str(message.uuid))
        request.refresh_from_db()
        notify.to_requester(request, kind)
    return message


def conclude(user: User, request_uuid: object, conclusion: Conclusion) -> Request:
    """The specialist concludes; the opinion is filed in the record and sent (``opinion``)."""
    from maillage.expertise import opinion

    text = _text(conclusion.text, "conclusion", required=True)
    if conclusion.recommendation not in Recommendation.values:
        raise ExpertiseRuleBroken(_("Choose a recommendation from the list."), "recommendation")
    _check_uploads(conclusion.uploads)
    access, grant = policy.request_for_change(
        user, request_uuid, {Side.SPECIALIST}, detail={"step": "conclude"}
    )
    request = access.request
    now = timezone.now()
    with _changing(grant):
        changed = Request.objects.filter(
            pk=request.pk, status__in=(Status.CLAIMED, Status.ON_HOLD)
        ).update(
            status=Status.CONCLUDED,
            concluded_at=now,
            conclusion=text,
            recommendation=conclusion.recommendation,
            updated_at=now,
            version=F("version") + 1,
        )
        if changed != 1:
            raise _Lost("not_claimed", _("Take the request before you conclude it."))
        _end_hold(request, now)
        _first_answer(request, now)
        _concluded_times(request, now)
        message = _message(request, user, MessageKind.CONCLUSION, text, now)
        _attach(request, message, conclusion.uploads, user)
        _close_care_team_place(request, now + policy.access_days())
        grant.done(message=str(message.uuid))
        request.refresh_from_db()
        # In the same transaction: a conclusion is never saved without its
        # opinion filed (a refused receiver is said on the request instead).
        with storage.removed_if_undone():
            opinion.file_and_send(user, request, access.readings())
        request.refresh_from_db()
        notify.to_requester(request, MessageKind.CONCLUSION)
    return request


def _first_answer(request: Request, now: dt.datetime) -> None:
    """The first answer's time and its duration for the figures, written once."""
    times = figures.response_times(request.submitted_at, now, None, 0, None)
    if Request.objects.filter(pk=request.pk, first_answer_at__isnull=True).update(
        first_answer_at=now, answer_seconds=times.answer_seconds
    ):
        figures.changed()


def _concluded_times(request: Request, now: dt.datetime) -> None:
    """At the conclusion (its hold ended): the duration without holds, and whether on time."""
    current = Request.objects.get(pk=request.pk)
    times = figures.response_times(
        current.submitted_at, current.first_answer_at, now, current.held_seconds, current.due_at
    )
    Request.objects.filter(pk=request.pk).update(
        conclusion_seconds=times.conclusion_seconds, concluded_on_time=times.concluded_on_time
    )
    figures.changed()


def _end_hold(request: Request, now: dt.datetime) -> None:
    """A hold ends: the clock and its reminders move by the time it lasted."""
    current = Request.objects.get(pk=request.pk)
    if current.hold_started_at is None:
        return
    held = now - current.hold_started_at
    Request.objects.filter(pk=request.pk).update(
        hold_started_at=None,
        held_seconds=F("held_seconds") + int(held.total_seconds()),
        due_at=F("due_at") + held,
        remind_half_at=F("remind_half_at") + held,
        remind_ninety_at=F("remind_ninety_at") + held,
    )


# --- The requester's side ----------------------------------------------------------------


def reply(
    user: User,
    request_uuid: object,
    body: str,
    uploads: Sequence[Upload] = (),
) -> Message:
    """The requester writes: an answer to a question (the clock runs again), or an addition."""
    text = _text(body, "body", required=True)
    _check_uploads(uploads)
    access, grant = policy.request_for_change(
        user, request_uuid, {Side.REQUESTER}, detail={"step": "reply"}
    )
    request = access.request
    now = timezone.now()
    with _changing(grant):
        resumed = Request.objects.filter(pk=request.pk, status=Status.ON_HOLD).update(
            status=Status.CLAIMED, updated_at=now, version=F("version") + 1
        )
        if resumed:
            _end_hold(request, now)
            kind = MessageKind.REPLY
        else:
            still_open = Request.objects.filter(pk=request.pk, status__in=OPEN_STATUSES).update(
                updated_at=now, version=F("version") + 1
            )
            if not still_open:
                raise _Lost("not_open", _("This request is closed."))
            kind = MessageKind.ADDITION
        message = _message(request, user, kind, text, now)
        _attach(request, message, uploads, user)
        grant.done(message=str(message.uuid))
        request.refresh_from_db()
        notify.to_specialist(request)
    return message


def cancel(user: User, request_uuid: object, reason: str = "") -> Request:
    """The requester withdraws an open request (or drops a draft); what was written stays."""
    text = _text(reason, "reason", required=False)
    access, grant = policy.request_for_change(
        user, request_uuid, {Side.REQUESTER}, detail={"step": "cancel"}
    )
    request = access.request
    now = timezone.now()
    with _changing(grant):
        changed = Request.objects.filter(
            pk=request.pk, status__in=(Status.DRAFT, *OPEN_STATUSES)
        ).update(
            status=Status.CANCELLED, cancelled_at=now, updated_at=now, version=F("version") + 1
        )
        if changed != 1:
            raise _Lost("not_open", _("This request is closed."))
        if request.status != Status.DRAFT:
            _end_hold(request, now)
            _message(request, user, MessageKind.CANCELLED, text, now)
        _close_care_team_place(request, now)
        grant.done()
        request.refresh_from_db()
        notify.changed(request, exclude=[user])
    return request


def specialist_messages(request: Request) -> int:
    """How many messages the specialist's side wrote (first answer and figures)."""
    return request.messages.filter(kind__in=ANSWER_KINDS).count()


# --- The patient's opposition ----------------------------------------------------------

RELEASE_BATCH = 200


def release_opposed(due_at: dt.datetime | None = None) -> int:
    """Requests held by a specialist the patient has since opposed: back to the pool, or cancelled.

    Her opposition closes his access at once (the policy); the request must not
    wait for someone who can no longer read it. A pool's request goes back to
    the pool's other members (its hold ended, its clock running); a request
    to a named specialist is cancelled, and its requester told why, so that
    she may ask someone else. Run by the minute job (``deadlines.remind``):
    each request once (a conditional UPDATE on who holds it).
    """
    now = timezone.now()
    held = policy.held_by_opposed().values_list("pk", "assignee_id")[:RELEASE_BATCH]
    return sum(_release(pk, assignee_id, now) for pk, assignee_id in list(held))


def _release(pk: int, assignee_id: int, now: dt.datetime) -> int:
    with transaction.atomic():
        request = Request.objects.select_related("patient", "requester").get(pk=pk)
        _end_hold(request, now)
        back_to_pool = request.pool_id is not None
        changes: dict[str, Any] = {
            "assignee": None,
            "updated_at": now,
            "version": F("version") + 1,
        }
        if back_to_pool:
            changes["status"] = Status.WAITING
        else:
            changes.update(status=Status.CANCELLED, cancelled_at=now)
        taken = Request.objects.filter(
            pk=pk, assignee_id=assignee_id, status__in=OPEN_STATUSES
        ).update(**changes)
        if taken != 1:
            return 0
        _close_care_team_place(request, now)
        Request.objects.filter(pk=pk).update(care_team_place=None)
        Message.objects.create(
            request=request,
            author=None,
            author_label="Maillage",
            kind=MessageKind.RELEASED,
            body=(
                _("The patient opposed the specialist's access: the request went back to the pool.")
                if back_to_pool
                else _(
                    "The patient opposed the specialist's access: the request was cancelled; "
                    "you may ask another specialist."
                )
            ),
            created_at=now,
        )
        policy.audit_released(request, "pool" if back_to_pool else "cancelled")
        request.refresh_from_db()
        if back_to_pool and request.pool is not None:
            # As at submission: the pool's answering members she did not oppose.
            members = [p.user for p in pool_responders(request.pool) if p.user is not None]
            opposed = policy.opposed_receivers(request.patient, members)
            notify.asked(request, [u for u in members if u.pk not in opposed])
        notify.to_requester(request, MessageKind.RELEASED)
    return 1
