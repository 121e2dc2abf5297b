from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from maillage.accounts.models import Role, User
from maillage.audit.models import Action
from maillage.directory.models import Professional
from maillage.expertise import queries as expertise_queries
from maillage.files import storage
from maillage.files.responses import stored_file_response
from maillage.lib.identifiers import InvalidIdentifier, parse_rpps
from maillage.lib.names import identity_match_key
from maillage.measurements.display import rows as reading_rows
from maillage.patients.identity import clean_matricule
from maillage.policy import gate as access
from maillage.policy.gate import PatientNotFound
from maillage.policy.measurements import recent_media, recent_readings
from maillage.policy.relations import IdentityEvidence
from maillage.records import actions
from maillage.records.forms import (
    BreakGlassForm,
    CareTeamActForm,
    DocumentForm,
    ReviewForm,
    WithdrawForm,
)
from maillage.records.queries import care_team_of, document_history


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _not_found(request: HttpRequest, patient_uuid: object = None) -> HttpResponse:
    """The same page for a missing and a refused record, with the emergency way in."""
    context = {"break_glass": access.may_break_glass(_user(request)), "patient_uuid": patient_uuid}
    return render(request, "records/not_found.html", context, status=404)


@login_required
@require_GET
def record_view(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    try:
        opened = access.open_record_by_id(user, uuid)
    except PatientNotFound:
        return _not_found(request, uuid)
    history = request.GET.get("historique") == "1"
    documents = opened.documents(include_history=history)
    return render(
        request,
        "records/record.html",
        {
            "opened": opened,
            "patient": opened.patient,
            "documents": documents,
            "history": history,
            "care_team": care_team_of(opened),
            "writable": opened.writable_types(),
            "break_glass_access": _active_break_glass(user, opened),
            "act_form": CareTeamActForm(),
            "may_ask_expertise": opened.allows(Action.EXPERTISE_ASK),
            "expertise_drafts": expertise_queries.drafts_of(user, opened.patient.pk)[:5],
            # Shown under this page's audited opening of the record, as its documents are.
            "reading_rows": reading_rows(recent_readings(opened)),
            "record_media": recent_media(opened),
            "may_mark": user.role == Role.DOCTOR and opened.allows(Action.OBSERVATION_WRITE),
        },
    )


def _active_break_glass(user: User, opened: access.RecordAccess) -> object:
    return access.current_break_glass(opened)


@login_required
@require_http_methods(["GET", "POST"])
def add_document(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    try:
        # Showing the form shows the record's types: that opening is audited.
        opened = access.open_record_by_id(user, uuid, purpose=Action.RECORD_READ)
    except PatientNotFound:
        return _not_found(request, uuid)
    types = opened.writable_types()
    if not types:
        raise PermissionDenied
    form = DocumentForm(request.POST or None, request.FILES or None, types=types)
    if request.method == "POST" and form.is_valid():
        try:
            actions.file_document(user, opened.patient, form.new_document(), uploads=form.uploads())
        except storage.RejectedUpload as error:
            form.add_error("attachments", error.message)
        except actions.RecordRuleBroken as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Document filed in the record."))
            return redirect("records:record", uuid=opened.patient.uuid)
    status = 400 if form.is_bound else 200
    return render(
        request,
        "records/add_document.html",
        {"form": form, "patient": opened.patient},
        status=status,
    )


@login_required
@require_GET
def document_view(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    document, opened = access.get_document(user, uuid)
    return render(
        request,
        "records/document.html",
        {
            "document": document,
            "opened": opened,
            "files": [df.file for df in document.document_files.select_related("file")],
            "versions": document_history(document, opened),
            "is_author": document.author_id == user.pk,
            "withdraw_form": WithdrawForm(),
            "replace_form": DocumentForm(
                types=opened.writable_types() or [document.type],
                initial={"type": document.type, "title": document.title},
            ),
        },
    )


@login_required
@require_GET
def download(request: HttpRequest, uuid: str, file_uuid: str) -> HttpResponse:
    user = _user(request)
    document, _opened = access.get_document(user, uuid)
    link = document.document_files.select_related("file").filter(file__uuid=file_uuid).first()
    if link is None:
        return _not_found(request)
    stored = link.file
    try:
        data = storage.read(stored)
    except storage.CorruptedFile:
        return render(request, "records/corrupted.html", {"document": document}, status=409)
    return stored_file_response(stored, data)


@login_required
@require_POST
def replace(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    document, opened = access.get_document(user, uuid)
    types = opened.writable_types()
    form = DocumentForm(request.POST, request.FILES, types=types or [document.type])
    if form.is_valid():
        try:
            newer = actions.replace_document(user, document, form.new_document(), form.uploads())
        except storage.RejectedUpload as error:
            messages.error(request, error.message)
        except actions.RecordRuleBroken as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, _("New version filed; the previous one stays in the history.")
            )
            return redirect("records:document", uuid=newer.uuid)
    else:
        messages.error(request, _("The new version could not be filed: check the form."))
    return redirect("records:document", uuid=document.uuid)


@login_required
@require_POST
def withdraw(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    document, _opened = access.get_document(user, uuid)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the document is withdrawn."))
        return redirect("records:document", uuid=document.uuid)
    try:
        actions.withdraw_document(user, document, form.cleaned_data["reason"])
    except actions.RecordRuleBroken as error:
        messages.error(request, error.message)
        return redirect("records:document", uuid=document.uuid)
    messages.success(request, _("Document withdrawn; it stays in the history."))
    return redirect("records:record", uuid=document.patient.uuid)


@login_required
@require_POST
def care_team_act(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    form = CareTeamActForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the RPPS number and a number of days."))
        return redirect("records:record", uuid=uuid)
    professional = _professional_by_rpps(form.cleaned_data["rpps"])
    if professional is None:
        messages.error(request, _("No professional of the directory has this RPPS number."))
        return redirect("records:record", uuid=uuid)
    try:
        actions.add_for_act(user, uuid, professional, days=form.cleaned_data["days"])
    except PatientNotFound:
        return _not_found(request, uuid)
    except actions.RecordRuleBroken as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(name)s joins the care team.") % {"name": professional})
    return redirect("records:record", uuid=uuid)


def _professional_by_rpps(raw: str) -> Professional | None:
    try:
        return Professional.objects.filter(rpps=parse_rpps(raw), active=True).first()
    except InvalidIdentifier:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def break_glass(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.may_break_glass(user):
        raise PermissionDenied
    form = BreakGlassForm(request.POST or None, initial={"patient": request.GET.get("patient")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        evidence = _evidence(form)
        try:
            opened = actions.break_glass(user, data["patient"], data["reason"], evidence)
        except PatientNotFound:
            form.add_error(
                None,
                _(
                    "No record matches these details. Check them, or call the "
                    "regulation centre (15)."
                ),
            )
        except actions.RecordRuleBroken as error:
            form.add_error(None, error.message)
        else:
            messages.warning(
                request,
                _(
                    "Emergency access opened. It is recorded, shown to the "
                    "patient and will be reviewed."
                ),
            )
            return redirect("records:record", uuid=opened.patient.uuid)
    status = 400 if form.is_bound else 200
    return render(request, "records/break_glass.html", {"form": form}, status=status)


def _evidence(form: BreakGlassForm) -> IdentityEvidence | None:
    data = form.cleaned_data
    matricule = None
    if data.get("ins_matricule"):
        try:
            matricule = clean_matricule(data["ins_matricule"])
        except ValueError:
            form.add_error("ins_matricule", _("This matricule INS is not valid."))
            return None
    if data.get("birth_name") and data.get("first_birth_given_name") and data.get("birth_date"):
        key = identity_match_key(
            data["birth_name"], data["first_birth_given_name"], data["birth_date"]
        )
    else:
        key = ""
    return IdentityEvidence(key, matricule) if (key or matricule) else None


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.role != Role.ADMIN:
        raise PermissionDenied
    pending = access.review_listing(user)
    done = access.reviewed_break_glass(user)
    return render(
        request,
        "records/review_queue.html",
        {"pending": pending, "done": done, "form": ReviewForm()},
    )


@login_required
@require_POST
def review(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    if user.role != Role.ADMIN:
        raise PermissionDenied
    target = access.break_glass_to_review(user, uuid)
    form = ReviewForm(request.POST)
    if target is None or not form.is_valid():
        messages.error(request, _("Choose the outcome of the review."))
        return redirect("records:review_queue")
    try:
        actions.review_break_glass(
            user, target, form.cleaned_data["outcome"], form.cleaned_data["note"]
        )
    except actions.RecordRuleBroken as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Review recorded."))
    return redirect("records:review_queue")
