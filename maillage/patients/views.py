from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from maillage.accounts.models import User
from maillage.audit.models import Action, AuditEntry
from maillage.front.input_limits import page_number
from maillage.patients import actions
from maillage.patients.forms import PatientCreateForm, PatientIdentityForm, PatientSearchForm
from maillage.patients.models import Patient
from maillage.patients.queries import patients_matching
from maillage.policy import gate as access
from maillage.policy.gate import NotAllowed, PatientNotFound
from maillage.policy.messages import may_use_messaging
from maillage.policy.relations import RELATION_LABELS

PAGE_SIZE = 20
ACCESS_LOG_PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@login_required
@require_GET
def patient_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.can_search(user):
        raise PermissionDenied
    form = PatientSearchForm(request.GET or None)
    text, birth_date = "", None
    if form.is_bound and form.is_valid():
        text, birth_date = form.cleaned_data["q"], form.cleaned_data["birth_date"]
    number = page_number(request.GET)
    result = access.search_patients(
        user,
        patients_matching(text, birth_date),
        offset=(number - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
        described_as={"text": bool(text), "birth_date": bool(birth_date)},
    )
    last = max(1, -(-result.total // PAGE_SIZE))
    if number > last:
        # A page after the last (an old link, a typed number): show the last one.
        number = last
        result = access.search_patients(
            user,
            patients_matching(text, birth_date),
            offset=(number - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
            described_as={"text": bool(text), "birth_date": bool(birth_date)},
        )
    pages = Paginator(range(result.total), PAGE_SIZE).get_page(number)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "patients/list.html",
        {
            "form": form,
            "result": result,
            "pages": pages,
            "query": params.urlencode(),
            "can_create": access.can_create(user),
        },
    )


def _show_duplicates(
    request: HttpRequest, form: PatientCreateForm, error: actions.DuplicateIdentity
) -> HttpResponse:
    shown = access.review_duplicates(
        _user(request), error.candidates, form.identity_input().evidence()
    )
    return render(
        request,
        "patients/create.html",
        {"form": form, "duplicates": shown, "same_matricule": error.same_matricule},
        status=409,
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.can_create(user):
        raise PermissionDenied
    form = PatientCreateForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.identity_input()
        link_to = request.POST.get("link_to")
        try:
            if link_to:
                patient = actions.link_patient(user, link_to, data.evidence())
                messages.success(
                    request, _("The existing record is now followed by your structure.")
                )
            else:
                patient = actions.create_patient(
                    user, data, confirmed_distinct=form.cleaned_data["confirm_distinct"]
                )
                messages.success(request, _("Patient registered."))
        except actions.DuplicateIdentity as error:
            return _show_duplicates(request, form, error)
        except NotAllowed:
            raise PermissionDenied from None
        return redirect("patients:detail", uuid=patient.uuid)
    status = 400 if form.is_bound else 200
    return render(request, "patients/create.html", {"form": form}, status=status)


@login_required
@require_GET
def patient_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    opened = access.open_patient(user, uuid, Action.PATIENT_READ)
    patient = opened.patient
    return render(
        request,
        "patients/detail.html",
        {
            "patient": patient,
            "followed_by": patient.followed_by.select_related("commune"),
            "can_edit": opened.allows(Action.PATIENT_UPDATE),
            "can_open_record": opened.allows(Action.RECORD_READ),
            "can_write_messages": may_use_messaging(user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        return _save_edit(request, uuid)
    opened = access.open_patient(user, uuid, Action.PATIENT_READ)
    opened.require(Action.PATIENT_UPDATE, detail={"step": "form"})
    patient = opened.patient
    form = PatientIdentityForm(user=user, patient=patient)
    return render(request, "patients/edit.html", {"form": form, "patient": patient})


def _save_edit(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    current = access.load_patient(uuid)
    form = PatientIdentityForm(request.POST, user=user, patient=current)
    if form.is_valid():
        try:
            patient = actions.update_patient(user, uuid, form.identity_input())
        except actions.DuplicateIdentity:
            form.add_error("ins_matricule", _("Another patient already has this matricule INS."))
        else:
            messages.success(request, _("Identity updated."))
            return redirect("patients:detail", uuid=patient.uuid)
    # Showing the form again shows the record: that is a read.
    opened = access.open_patient(user, uuid, Action.PATIENT_READ)
    opened.require(Action.PATIENT_UPDATE, detail={"step": "form"})
    patient = opened.patient
    return render(request, "patients/edit.html", {"form": form, "patient": patient}, status=400)


def _own_record(user: User) -> Patient:
    patient = access.own_patient(user)
    if patient is None:
        raise PatientNotFound
    return patient


@login_required
@require_GET
def my_record(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    patient = access.get_patient(user, _own_record(user).uuid, Action.PATIENT_READ)
    return render(
        request,
        "patients/my_record.html",
        {"patient": patient, "followed_by": patient.followed_by.select_related("commune")},
    )


@login_required
@require_GET
def my_access_log(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    patient = access.get_patient(user, _own_record(user).uuid, Action.ACCESS_LOG_READ)
    entries = AuditEntry.objects.filter(patient=patient).select_related("actor").order_by("-seq")
    page = Paginator(entries, ACCESS_LOG_PAGE_SIZE).get_page(page_number(request.GET))
    return render(
        request,
        "patients/access_log.html",
        {"patient": patient, "page": page, "relation_labels": RELATION_LABELS},
    )
