from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from maillage.accounts.models import User
from maillage.audit.models import Action
from maillage.files import storage
from maillage.files.responses import stored_file_response
from maillage.front.input_limits import bounded_text, page_number
from maillage.lib.identifiers import InvalidIdentifier, parse_rpps
from maillage.messaging import actions, queries
from maillage.messaging.forms import (
    ComposeForm,
    FileIntoRecordForm,
    ReplyForm,
    SearchForm,
    document_choices,
)
from maillage.messaging.models import Attachment, Delivery, DeliveryStatus, Message, Thread
from maillage.patients.models import Patient
from maillage.policy import messages as access
from maillage.policy.gate import PatientNotFound, allowed, open_patient, open_record
from maillage.records.models import Document

PAGE_SIZE = 30


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not access.may_use_messaging(user):
        raise PermissionDenied
    return user


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = SearchForm(request.GET)
    search = form.cleaned_data["q"].strip() if form.is_valid() else ""
    page = Paginator(queries.inbox(user, search), PAGE_SIZE).get_page(page_number(request.GET))
    rows = [
        (
            thread,
            ", ".join(p.label for p in thread.participants.all() if p.user_id != user.pk),
        )
        for thread in page
    ]
    return render(
        request,
        "messaging/inbox.html",
        {"form": form, "search": search, "page": page, "rows": rows},
    )


@login_required
@require_GET
def recipient_suggestions(request: HttpRequest) -> HttpResponse:
    """<option>s for the recipients datalist, fetched by htmx as people type."""
    _user(request)
    # As long as the recipients field itself (ComposeForm), no longer.
    options = queries.suggest_recipients(bounded_text(request.GET, "recipients", 2_000))
    return render(request, "messaging/recipient_options.html", {"options": options})


def _record_documents(user: User, patient: Patient | None) -> list[Document]:
    """The record documents the user may attach; opening the record is audited."""
    if patient is None or not allowed(user, patient, Action.RECORD_READ):
        return []
    try:
        return open_record(user, patient).documents()
    except PatientNotFound:
        return []


@login_required
@require_http_methods(["GET", "POST"])
def compose(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        form = ComposeForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            draft = actions.Draft(
                subject=data["subject"],
                body=data["body"],
                professionals=form.parsed.professionals,
                addresses=form.addresses(),
                patient_uuid=data["patient"],
                uploads=form.uploads(),
                documents=data["documents"],
            )
            try:
                message = actions.send_message(user, draft)
            except actions.MessagingRuleBroken as error:
                form.add_error(error.field, error.message)
            else:
                _tell_sent(request, message)
                return redirect("messaging:thread", uuid=message.thread.uuid)
        patient_uuid = request.POST.get("patient") or None
    else:
        patient_uuid = request.GET.get("patient") or None
        form = ComposeForm(
            initial={"patient": patient_uuid, "recipients": _initial_recipient(request)}
        )
    # Showing the patient is reading them: through the gate, audited (404 when refused).
    opened = open_patient(user, patient_uuid, Action.PATIENT_READ) if patient_uuid else None
    patient = opened.patient if opened is not None else None
    documents = _record_documents(user, patient)
    form.fields["documents"].choices = document_choices(documents)  # type: ignore[attr-defined]
    return render(
        request,
        "messaging/compose.html",
        {"form": form, "patient": patient},
        status=400 if form.is_bound else 200,
    )


def _initial_recipient(request: HttpRequest) -> str:
    """``?rpps=`` from a "write to" link of the directory fills the recipient in."""
    try:
        rpps = parse_rpps(request.GET.get("rpps", ""))
    except InvalidIdentifier:
        return ""
    professional = queries.reachable_professionals().filter(rpps=rpps).first()
    return queries.suggestion_label(professional) if professional else ""


def _tell_sent(request: HttpRequest, message: Message) -> None:
    failed = message.deliveries.filter(status=DeliveryStatus.FAILED).exists()
    if failed:
        messages.warning(
            request,
            _(
                "Message kept, but it could not be sent to some outside recipients: "
                "see below, and send it again later."
            ),
        )
    else:
        messages.success(request, _("Message sent."))


@dataclass
class AttachmentRow:
    attachment: Attachment
    filing_form: FileIntoRecordForm | None = None


@dataclass
class MessageRow:
    message: Message
    mine: bool
    attachments: list[AttachmentRow] = field(default_factory=list)
    internal: list[Delivery] = field(default_factory=list)
    outside: list[Delivery] = field(default_factory=list)

    @property
    def recipients(self) -> str:
        return ", ".join(d.label for d in [*self.internal, *self.outside])

    @property
    def may_send_again(self) -> bool:
        return self.mine and any(d.status == DeliveryStatus.FAILED for d in self.outside)


def _rows(user: User, thread: Thread) -> list[MessageRow]:
    types = access.filing_types(user, thread.patient)
    rows = []
    for message in queries.thread_messages(thread):
        deliveries = list(message.deliveries.all())
        row = MessageRow(
            message=message,
            mine=message.sender_id == user.pk,
            internal=[d for d in deliveries if not d.is_outside],
            outside=[d for d in deliveries if d.is_outside],
        )
        for attachment in message.attachments.all():
            fileable = types and not attachment.source_document_id and not attachment.filed_as_id
            row.attachments.append(
                AttachmentRow(
                    attachment,
                    FileIntoRecordForm(
                        types=types,
                        initial={"title": attachment.file.original_name},
                        auto_id=f"id_file_{attachment.uuid.hex[:12]}_%s",
                    )
                    if fileable
                    else None,
                )
            )
        rows.append(row)
    return rows


@login_required
@require_GET
def thread_view(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    thread = access.get_thread(user, uuid)
    actions.mark_read(user, thread)
    return render(
        request,
        "messaging/thread.html",
        {
            "thread": thread,
            "rows": _rows(user, thread),
            "participants": list(thread.participants.order_by("label", "pk")),
            "reply_form": ReplyForm(auto_id="id_reply_%s"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def reply(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    thread = access.get_thread(user, uuid, Action.MESSAGE_SEND)
    form = ReplyForm(request.POST or None, request.FILES or None, auto_id="id_reply_%s")
    if request.method == "POST" and form.is_valid():
        try:
            message = actions.reply(
                user,
                thread,
                form.cleaned_data["body"],
                uploads=form.uploads(),
                documents=form.cleaned_data["documents"],
            )
        except actions.MessagingRuleBroken as error:
            form.add_error(error.field, error.message)
        else:
            _tell_sent(request, message)
            url = reverse("messaging:thread", kwargs={"uuid": thread.uuid})
            return redirect(f"{url}#message-{message.uuid}")
    documents = _record_documents(user, thread.patient)
    form.fields["documents"].choices = document_choices(documents)  # type: ignore[attr-defined]
    return render(
        request,
        "messaging/reply.html",
        {"thread": thread, "form": form},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_GET
def download(request: HttpRequest, uuid: str, attachment_uuid: str) -> HttpResponse:
    user = _user(request)
    attachment = access.get_attachment(user, uuid, attachment_uuid)
    stored = attachment.file
    try:
        data = storage.read(stored)
    except storage.CorruptedFile:
        return render(
            request, "messaging/corrupted.html", {"thread_uuid": uuid, "file": stored}, status=409
        )
    return stored_file_response(stored, data)


@login_required
@require_POST
def file_into_record(request: HttpRequest, uuid: str, attachment_uuid: str) -> HttpResponse:
    user = _user(request)
    attachment = access.get_attachment(user, uuid, attachment_uuid, Action.DOCUMENT_CREATE)
    thread_url = reverse("messaging:thread", kwargs={"uuid": uuid})
    anchor = f"{thread_url}#attachment-{attachment.uuid}"
    types = access.filing_types(user, attachment.message.thread.patient)
    if not types:
        messages.error(request, _("You may not add documents to this patient's record."))
        return redirect(anchor)
    form = FileIntoRecordForm(request.POST, types=types)
    if not form.is_valid():
        messages.error(request, _("Choose the type of document and give it a title."))
        return redirect(anchor)
    try:
        actions.file_attachment(
            user, attachment, form.cleaned_data["type"], form.cleaned_data["title"]
        )
    except actions.MessagingRuleBroken as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("File filed in the patient's record."))
    return redirect(anchor)


@login_required
@require_POST
def send_again(request: HttpRequest, uuid: str, message_uuid: str) -> HttpResponse:
    user = _user(request)
    thread = access.get_thread(user, uuid, Action.MESSAGE_SEND)
    message = thread.messages.filter(uuid=message_uuid).first()
    if message is None:
        raise Http404
    try:
        deliveries = actions.send_again(user, message)
    except actions.MessagingRuleBroken as error:
        messages.error(request, error.message)
    else:
        if any(d.status == DeliveryStatus.FAILED for d in deliveries):
            messages.warning(request, _("The message still could not be sent: see below."))
        elif any(d.status == DeliveryStatus.PENDING for d in deliveries):
            # The background worker sends it: say so rather than claim it went.
            messages.success(request, _("The message is being sent again."))
        else:
            messages.success(request, _("Message sent."))
    url = reverse("messaging:thread", kwargs={"uuid": thread.uuid})
    return redirect(f"{url}#message-{message.uuid}")
