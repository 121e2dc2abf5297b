"""Pages of tele-expertise: ask from the record, the lists, the request as a conversation.

Each view parses, opens through ``policy.expertise`` (or the record's gate),
calls one action, and renders. A rule an action refuses comes back on the
form in French, with what was typed (a draft already saved stays saved).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from maillage.accounts.models import User
from maillage.audit.models import Action
from maillage.expertise import actions, billing, queries
from maillage.expertise.forms import AskForm, CancelForm, ConcludeForm, HandOverForm, WriteForm
from maillage.expertise.models import OPEN_STATUSES, MessageKind, Priority, Request, Status
from maillage.files import storage
from maillage.files.responses import stored_file_response
from maillage.front.input_limits import page_number
from maillage.measurements.display import rows as reading_rows
from maillage.measurements.models import Observation
from maillage.patients.models import Patient
from maillage.policy import expertise as policy
from maillage.policy.expertise import RequestAccess, RequestNotFound, Side
from maillage.policy.gate import PatientNotFound, allowed, open_patient, open_record
from maillage.policy.measurements import recent_readings
from maillage.records.models import Document

PAGE_SIZE = 50
# The queue shows the soonest due first: the top 25 is what a specialist works from.
QUEUE_PAGE_SIZE = 25


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not queries.may_use_expertise(user):
        raise PermissionDenied
    return user


# --- Lists --------------------------------------------------------------------------------


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """The requester's list: waiting, needs your reply, concluded, drafts."""
    user = _user(request)
    tab = request.GET.get("vue", "")
    counts = queries.counts_asked_by(user)
    if tab not in queries.TABS:
        tab = queries.Tab.REPLY if counts[queries.Tab.REPLY] else queries.Tab.WAITING
    page = Paginator(queries.asked_by(user, tab), PAGE_SIZE).get_page(page_number(request.GET))
    rows = list(page)
    policy.audit_listed(user, rows)
    tabs = [
        (queries.Tab.WAITING, _("Waiting for the specialist")),
        (queries.Tab.REPLY, _("Needs your reply")),
        (queries.Tab.CONCLUDED, _("Concluded or cancelled")),
        (queries.Tab.DRAFTS, _("Drafts")),
    ]
    return render(
        request,
        "expertise/mine.html",
        {
            "tab": tab,
            "tabs": [(key, label, counts[key]) for key, label in tabs],
            "page": page,
            "rows": rows,
            "now": timezone.now(),
            "may_answer": queries.answers_expertise(user),
        },
    )


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The specialist's queue: mine and my pools' untaken requests, soonest due first."""
    user = _user(request)
    page = Paginator(queries.queue_of(user), QUEUE_PAGE_SIZE).get_page(page_number(request.GET))
    rows = list(page)
    policy.audit_listed(user, rows)
    return render(
        request,
        "expertise/queue.html",
        {
            "page": page,
            "rows": rows,
            "me": queries.professional_id(user),
            "taken": queries.taken_by_colleagues(user),
            "coordinates": queries.coordinates_pools(user),
            "now": timezone.now(),
        },
    )


@login_required
@require_GET
def late(request: HttpRequest) -> HttpResponse:
    """Late requests of the pools I coordinate: reference, pool, priority, due, who holds it."""
    user = _user(request)
    if not queries.coordinates_pools(user):
        raise PermissionDenied
    page = Paginator(queries.late_in_my_pools(user), PAGE_SIZE).get_page(page_number(request.GET))
    return render(
        request,
        "expertise/late.html",
        {"page": page, "rows": queries.colleague_rows(page), "now": timezone.now()},
    )


# --- The request ------------------------------------------------------------------------


def _open(user: User, request_uuid: object) -> RequestAccess:
    return policy.open_request(user, request_uuid)


def _taken_or_404(request: HttpRequest, user: User, request_uuid: object) -> HttpResponse:
    """A member of the request's pool learns a colleague took it; anyone else gets "not found"."""
    row = queries.taken_elsewhere(user, request_uuid)
    if row is None:
        raise Http404
    return render(request, "expertise/taken.html", {"row": row}, status=404)


@login_required
@require_GET
def detail(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    try:
        access = _open(user, uuid)
    except RequestNotFound:
        return _taken_or_404(request, user, uuid)
    if access.request.status == Status.DRAFT:
        return redirect("expertise:edit", uuid=access.request.uuid)
    return _page(request, access)


@login_required
@require_GET
def live(request: HttpRequest, uuid: str) -> HttpResponse:
    """The part of the page that changes (status, clock, conversation), fetched on an event."""
    user = _user(request)
    access = _open(user, uuid)
    return render(request, "expertise/_live.html", _live_context(access))


def _clock(item: Request, now: dt.datetime) -> dict[str, Any]:
    running = item.status in (Status.WAITING, Status.CLAIMED)
    return {
        "running": running,
        "paused": item.status == Status.ON_HOLD,
        "late": running and item.due_at is not None and item.due_at <= now,
    }


def _live_context(access: RequestAccess) -> dict[str, Any]:
    item = access.request
    now = timezone.now()
    steps = queries.conversation(access)
    return {
        "access": access,
        "item": item,
        "side": access.side,
        # The question stands above the conversation, with its files.
        "asked": next((m for m in steps if m.kind == MessageKind.QUESTION), None),
        "conversation": [m for m in steps if m.kind != MessageKind.QUESTION],
        "clock": _clock(item, now),
        "now": now,
    }


def _may(access: RequestAccess) -> dict[str, bool]:
    """Which controls this side is offered now (each action decides again)."""
    status, side = access.request.status, access.side
    specialist = side == Side.SPECIALIST
    requester = side == Side.REQUESTER
    return {
        "claim": side == Side.POOL or (specialist and status == Status.WAITING),
        "hand_over": specialist and status in (Status.WAITING, Status.CLAIMED),
        "answer": specialist and status == Status.CLAIMED,
        "conclude": specialist and status in (Status.CLAIMED, Status.ON_HOLD),
        "reply": requester and status in OPEN_STATUSES,
        "cancel": requester and status in OPEN_STATUSES,
    }


def _page(
    request: HttpRequest,
    access: RequestAccess,
    bound: Mapping[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    item = access.request
    may = _may(access)
    colleagues = list(actions.handover_colleagues(access).values()) if may["hand_over"] else []
    context: dict[str, Any] = {
        **_live_context(access),
        "patient": access.patient,
        "documents": [
            (d, list(d.document_files.select_related("file"))) for d in access.documents()
        ],
        "readings": reading_rows(access.readings()),
        "may": may,
        "write_form": WriteForm(auto_id="id_write_%s"),
        "conclude_form": ConcludeForm(auto_id="id_conclude_%s"),
        "hand_over_form": HandOverForm(colleagues=colleagues, auto_id="id_hand_%s"),
        "cancel_form": CancelForm(auto_id="id_cancel_%s"),
        "colleagues": colleagues,
        "acts": billing.acts_of(item),
    }
    context.update(bound or {})
    return render(request, "expertise/detail.html", context, status=status)


def _rule_on(
    form: forms.Form, broken: actions.ExpertiseRuleBroken, files: str = "attachments"
) -> None:
    field = {"uploads": files, "body": "body", "conclusion": "text"}.get(
        broken.field or "", broken.field
    )
    form.add_error(field if field in form.fields else None, broken.message)


@login_required
@require_POST
def claim(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    try:
        actions.claim(user, uuid)
    except (RequestNotFound, actions.ExpertiseRuleBroken):
        if isinstance(queries.taken_elsewhere(user, uuid), queries.ColleagueRow):
            messages.error(request, _("A colleague took this request first."))
            return redirect("expertise:queue")
        raise Http404 from None
    messages.success(request, _("You took the request: the patient's record is open to you."))
    return redirect("expertise:detail", uuid=uuid)


@login_required
@require_POST
def write(request: HttpRequest, uuid: str) -> HttpResponse:
    """A message of the conversation: answer or ask for more (specialist), reply (requester)."""
    user = _user(request)
    form = WriteForm(request.POST, request.FILES, auto_id="id_write_%s")
    step = request.POST.get("step", "")
    if form.is_valid():
        body, uploads = form.cleaned_data["body"], form.uploads()
        try:
            if step == "more":
                actions.ask_for_more(user, uuid, body, uploads)
                done = _("Your question was sent; the clock waits for the answer.")
            elif step == "answer":
                actions.answer(user, uuid, body, uploads)
                done = _("Your answer was sent.")
            else:
                actions.reply(user, uuid, body, uploads)
                done = _("Your message was sent.")
        except actions.ExpertiseRuleBroken as broken:
            _rule_on(form, broken)
        except storage.RejectedUpload as refused:
            form.add_error("attachments", refused.message)
        else:
            messages.success(request, done)
            return redirect(reverse("expertise:detail", kwargs={"uuid": uuid}) + "#conversation")
    return _page(request, _open(user, uuid), {"write_form": form}, status=400)


@login_required
@require_POST
def conclude(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    form = ConcludeForm(request.POST, request.FILES, auto_id="id_conclude_%s")
    if form.is_valid():
        try:
            actions.conclude(user, uuid, form.conclusion())
        except actions.ExpertiseRuleBroken as broken:
            _rule_on(form, broken)
        except storage.RejectedUpload as refused:
            form.add_error("attachments", refused.message)
        else:
            messages.success(
                request,
                _("Concluded: the opinion is filed in the record and sent to the requester."),
            )
            return redirect("expertise:detail", uuid=uuid)
    return _page(request, _open(user, uuid), {"conclude_form": form}, status=400)


@login_required
@require_POST
def hand_over(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    access = _open(user, uuid)
    colleagues = (
        list(actions.handover_colleagues(access).values()) if access.side == Side.SPECIALIST else []
    )
    form = HandOverForm(request.POST, colleagues=colleagues, auto_id="id_hand_%s")
    if form.is_valid():
        try:
            actions.hand_over(user, uuid, form.cleaned_data["colleague"])
        except actions.ExpertiseRuleBroken as broken:
            _rule_on(form, broken)
        else:
            messages.success(request, _("The request was handed over to your colleague."))
            return redirect("expertise:queue")
    return _page(request, access, {"hand_over_form": form}, status=400)


@login_required
@require_POST
def cancel(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    form = CancelForm(request.POST, auto_id="id_cancel_%s")
    if form.is_valid():
        try:
            item = actions.cancel(user, uuid, form.cleaned_data["reason"])
        except actions.ExpertiseRuleBroken as broken:
            _rule_on(form, broken)
        else:
            messages.success(request, _("The request was cancelled."))
            if item.submitted_at is None:
                return redirect(reverse("expertise:mine") + f"?vue={queries.Tab.DRAFTS}")
            return redirect("expertise:detail", uuid=uuid)
    return _page(request, _open(user, uuid), {"cancel_form": form}, status=400)


# --- Files ------------------------------------------------------------------------------


def _serve(request: HttpRequest, stored: Any, back: str) -> HttpResponse:
    try:
        data = storage.read(stored)
    except storage.CorruptedFile:
        return render(
            request, "expertise/corrupted.html", {"file": stored, "back": back}, status=409
        )
    return stored_file_response(stored, data)


@login_required
@require_GET
def attachment(request: HttpRequest, file_uuid: str) -> HttpResponse:
    user = _user(request)
    access, stored = policy.attachment_of(user, file_uuid)
    return _serve(
        request, stored, reverse("expertise:detail", kwargs={"uuid": access.request.uuid})
    )


@login_required
@require_GET
def shared_file(
    request: HttpRequest, uuid: str, document_uuid: str, file_uuid: str
) -> HttpResponse:
    """A file of a record document shared with the request, decided for this reader now."""
    user = _user(request)
    access = _open(user, uuid)
    document = policy.shared_document(access, document_uuid)
    link = document.document_files.select_related("file").filter(file__uuid=file_uuid).first()
    if link is None:
        raise Http404
    return _serve(request, link.file, reverse("expertise:detail", kwargs={"uuid": uuid}))


# --- Asking -----------------------------------------------------------------------------


# The latest readings offered as context: enough for a series of pressures, short to scan.
CONTEXT_READINGS = 15


def _record_context(user: User, patient: Patient) -> tuple[list[Document], list[Observation]]:
    """The record documents and latest readings the requester may share; opening the
    record is audited (once, for both)."""
    if not allowed(user, patient, Action.RECORD_READ):
        return [], []
    try:
        opened = open_record(user, patient, detail={"for": "expertise"})
    except PatientNotFound:
        return [], []
    return opened.documents(), recent_readings(opened, limit=CONTEXT_READINGS)


def _ask_form(
    user: User, patient: Patient, data: Any = None, files: Any = None, **kwargs: Any
) -> AskForm:
    return AskForm(
        data,
        files,
        pools=queries.active_pools(),
        specialists=[s for s in queries.answering_specialists() if s.user_id != user.pk],
        priorities=list(Priority.objects.order_by("hours")),
        context=_record_context(user, patient),
        **kwargs,
    )


@login_required
@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    """A new request about a patient, from her record."""
    user = _user(request)
    # Showing the patient's name is reading her: through the gate, audited (404 if refused).
    patient = open_patient(user, patient_uuid, Action.PATIENT_READ).patient
    if not allowed(user, patient, Action.EXPERTISE_ASK):
        raise PatientNotFound
    if request.method == "POST":
        return _save(request, user, patient, None)
    form = _ask_form(user, patient)
    return _ask_page(request, form, patient, None)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, uuid: str) -> HttpResponse:
    """A draft taken up again (by its requester only)."""
    user = _user(request)
    access = _open(user, uuid)
    if access.side != Side.REQUESTER or access.request.status != Status.DRAFT:
        return redirect("expertise:detail", uuid=access.request.uuid)
    if request.method == "POST":
        return _save(request, user, access.patient, access)
    draft = access.request
    form = _ask_form(
        user,
        access.patient,
        initial={
            "question": draft.question,
            "pool": str(draft.pool.uuid) if draft.pool else "",
            "specialist": str(draft.assignee.uuid) if draft.assignee else "",
            "priority": draft.priority.code,
            "documents": [str(d.uuid) for d in draft.documents.all()],
            "readings": [str(r.uuid) for r in draft.readings.all()],
            "consent": draft.consent_recorded_at is not None,
        },
    )
    return _ask_page(request, form, access.patient, access)


def _save(
    request: HttpRequest, user: User, patient: Patient, access: RequestAccess | None
) -> HttpResponse:
    form = _ask_form(user, patient, request.POST, request.FILES)
    sending = "send" in request.POST
    if not form.is_valid():
        return _ask_page(request, form, patient, access, status=400)
    draft: Request | None = access.request if access else None
    saved = False
    try:
        draft = actions.save_draft(user, patient.uuid, form.ask(), draft.uuid if draft else None)
        saved = True
        if sending:
            actions.submit(user, draft.uuid)
    except actions.ExpertiseRuleBroken as broken:
        _rule_on(form, broken)
    except storage.RejectedUpload as refused:
        form.add_error("attachments", refused.message)
    else:
        if sending:
            messages.success(request, _("Your request was sent."))
            return redirect("expertise:detail", uuid=draft.uuid)
        messages.success(request, _("Draft saved."))
        return redirect("expertise:edit", uuid=draft.uuid)
    if saved and draft is not None:
        # Saved, then not sent: the page goes on as the draft's, with what it kept.
        if access is None:
            access = policy.open_request(user, draft.uuid, detail={"step": "draft_kept"})
        else:
            access.request.refresh_from_db()
        messages.info(request, _("Your draft is saved; correct what is said, then send it."))
    return _ask_page(request, form, patient, access, status=400)


def _ask_page(
    request: HttpRequest,
    form: AskForm,
    patient: Patient,
    access: RequestAccess | None,
    status: int = 200,
) -> HttpResponse:
    draft = access.request if access else None
    action = (
        reverse("expertise:edit", kwargs={"uuid": draft.uuid})
        if draft
        else reverse("expertise:ask", kwargs={"patient_uuid": patient.uuid})
    )
    return render(
        request,
        "expertise/ask.html",
        {
            "form": form,
            "patient": patient,
            "draft": draft,
            "kept_files": queries.draft_attachments(access) if access else [],
            "action": action,
            "cancel_form": CancelForm(auto_id="id_cancel_%s"),
        },
        status=status,
    )
