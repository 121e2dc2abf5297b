from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from maillage.accounts.models import User
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.directory.models import Structure
from maillage.front.input_limits import page_number
from maillage.patients import actions
from maillage.patients.details import details_of
from maillage.patients.forms import PatientCreateForm, PatientIdentityForm, PatientSearchForm
from maillage.patients.models import Patient
from maillage.patients.queries import patients_matching
from maillage.policy import gate as access
from maillage.policy.gate import NotAllowed, PatientNotFound
from maillage.policy.messages import may_use_messaging
from maillage.policy.relations import RELATION_LABELS
from maillage.territory.models import Commune

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
    request: HttpRequest,
    form: PatientCreateForm,
    candidates: list[Patient],
    *,
    same_matricule: bool,
    link_refused: bool = False,
) -> HttpResponse:
    """The duplicate page: who already holds these traits, and how to use that record.

    A candidate is shown only when the typed traits (or matricule) identify
    them, and only by what avoids a second identity: names, birth date, sex,
    place of birth. Never the matricule INS, the address or the phone: typing
    someone's name and birth date must not be a way to read them.
    """
    shown = access.review_duplicates(_user(request), candidates, form.identity_input().evidence())
    return render(
        request,
        "patients/create.html",
        {
            "form": form,
            "duplicates": [_DuplicateCard.of(c) for c in shown],
            "same_matricule": same_matricule,
            "link_refused": link_refused,
        },
        # A refused link looks like "not found", whatever the id posted.
        status=404 if link_refused else 409,
    )


@dataclass(frozen=True)
class _DuplicateCard:
    """What the duplicate page may say about a candidate, and nothing else."""

    uuid: str
    display_name: str
    birth_given_names: str
    birth_date: dt.date
    sex: str
    birthplace: str

    @classmethod
    def of(cls, patient: Patient) -> _DuplicateCard:
        return cls(
            uuid=str(patient.uuid),
            display_name=patient.display_name,
            birth_given_names=patient.birth_given_names,
            birth_date=patient.birth_date,
            sex=str(patient.get_sex_display()),
            birthplace=_birthplace(patient.birthplace_code),
        )


def _birthplace(code: str) -> str:
    """The commune of birth by name when the territory knows it, else its INSEE code."""
    if not code:
        return ""
    commune = Commune.objects.filter(insee_code=code).only("name").first()
    return f"{commune.name} ({code})" if commune else code


def _link_existing(request: HttpRequest, form: PatientCreateForm, link_to: str) -> HttpResponse:
    """Attach the record chosen on the duplicate page, if the matricule typed proves it."""
    user = _user(request)
    data = form.identity_input()
    try:
        patient = actions.link_patient(user, link_to, data.evidence())
    except PatientNotFound:
        # Refused (and audited) by the policy, or no such record: the same
        # answer either way, with the candidates the typed traits identify.
        candidates, same_matricule = actions.find_duplicates(data.evidence())
        return _show_duplicates(
            request, form, candidates, same_matricule=same_matricule, link_refused=True
        )
    messages.success(request, _("The existing record is now followed by your structure."))
    return redirect("patients:detail", uuid=patient.uuid)


@login_required
@require_http_methods(["GET", "POST"])
def patient_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.can_create(user):
        raise PermissionDenied
    form = PatientCreateForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        link_to = request.POST.get("link_to")
        if link_to:
            return _link_existing(request, form, link_to)
        try:
            patient = actions.create_patient(
                user,
                form.identity_input(),
                confirmed_distinct=form.cleaned_data["confirm_distinct"],
            )
        except actions.DuplicateIdentity as error:
            return _show_duplicates(
                request, form, error.candidates, same_matricule=error.same_matricule
            )
        except NotAllowed:
            raise PermissionDenied from None
        messages.success(request, _("Patient registered."))
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
            "details": details_of(patient),
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
            patient = actions.update_patient(
                user, uuid, form.identity_input(), expected_version=_shown_version(request)
            )
        except actions.DuplicateIdentity:
            form.add_error("ins_matricule", _("Another patient already has this matricule INS."))
        except actions.StaleVersion:
            form.add_error(
                None,
                _(
                    "Someone else changed this identity while you were editing it: check the "
                    "record as it is now, then save your change again."
                ),
            )
        else:
            messages.success(request, _("Identity updated."))
            return redirect("patients:detail", uuid=patient.uuid)
    # Showing the form again shows the record: that is a read.
    opened = access.open_patient(user, uuid, Action.PATIENT_READ)
    opened.require(Action.PATIENT_UPDATE, detail={"step": "form"})
    patient = opened.patient
    return render(request, "patients/edit.html", {"form": form, "patient": patient}, status=400)


def _shown_version(request: HttpRequest) -> int | None:
    """The version the form was shown with; None from a form that did not say."""
    value = request.POST.get("version", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def _own_record(user: User) -> Patient:
    patient = access.own_patient(user)
    if patient is None:
        raise PatientNotFound
    return patient


@dataclass(frozen=True)
class _Follower:
    """A structure that follows the patient, and the entry that says who linked it."""

    structure: Structure
    linked: AuditEntry | None


def _followers(patient: Patient) -> list[_Follower]:
    """The structures following the patient, each with its latest link in her trail.

    A structure set at creation has no link entry (the creation entry names
    its author in her access log).
    """
    structures = list(patient.followed_by.select_related("commune").order_by("name"))
    wanted = {str(s.uuid) for s in structures}
    linked: dict[str, AuditEntry] = {}
    links = AuditEntry.objects.filter(
        patient=patient, action=Action.PATIENT_LINK, outcome=Outcome.GRANTED
    ).order_by("seq")
    for entry in links:
        for key in entry.detail.get("structures", []):
            if key in wanted:
                linked[key] = entry
    return [_Follower(s, linked.get(str(s.uuid))) for s in structures]


@login_required
@require_GET
def my_record(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    patient = access.get_patient(user, _own_record(user).uuid, Action.PATIENT_READ)
    return render(
        request,
        "patients/my_record.html",
        {
            "patient": patient,
            "details": details_of(patient),
            "followers": _followers(patient),
            "can_unlink": access.allowed(user, patient, Action.PATIENT_UNLINK),
        },
    )


@login_required
@require_POST
def my_record_unlink(request: HttpRequest, structure: str) -> HttpResponse:
    """The patient stops a structure from following her (the action decides and audits)."""
    user = _user(request)
    patient = _own_record(user)
    found = Structure.objects.filter(uuid=structure).first()
    if found is None:
        raise Http404
    if actions.unlink_structure(user, patient, found):
        messages.success(
            request,
            _("%(structure)s no longer follows you: its members no longer see your identity.")
            % {"structure": found.name},
        )
    else:
        messages.info(
            request, _("%(structure)s was not following you.") % {"structure": found.name}
        )
    return redirect("patients:my_record")


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
