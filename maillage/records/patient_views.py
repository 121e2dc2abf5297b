"""The patient's side of the record: their documents and their decisions about it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from maillage.accounts.models import User
from maillage.audit.models import Action
from maillage.directory.models import Professional
from maillage.measurements.display import rows as reading_rows
from maillage.patients.models import Patient
from maillage.policy import gate as access
from maillage.policy.gate import PatientNotFound
from maillage.policy.measurements import recent_media, recent_readings
from maillage.records import actions
from maillage.records.models import ConsentKind
from maillage.records.queries import care_team_of, professionals_known_to


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _own_patient(user: User) -> Patient:
    patient = access.own_patient(user)
    if patient is None:
        raise PatientNotFound
    return patient


@login_required
@require_GET
def my_documents(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    opened = access.open_record(user, _own_patient(user))
    documents = opened.documents()
    return render(
        request,
        "records/my_documents.html",
        {
            "documents": documents,
            "masked": opened.state.masked_documents,
            "reading_rows": reading_rows(recent_readings(opened)),
            "record_media": recent_media(opened),
        },
    )


@login_required
@require_POST
def mask(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    document, opened = access.get_document(user, uuid)
    if not opened.is_patient:
        raise PatientNotFound
    try:
        actions.mask_document(user, document)
    except actions.RecordRuleBroken as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _(
                "“%(title)s” is now hidden from the professionals, except its author and your "
                "médecin traitant."
            )
            % {"title": document.title},
        )
    return redirect("records:my_documents")


@login_required
@require_GET
def my_consents(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    patient = _own_patient(user)
    opened = access.open_record(user, patient, purpose=Action.CONSENT_READ)
    consents = access.consents_of(opened)
    latest_sharing = next((c for c in consents if c.kind == ConsentKind.SHARING), None)
    return render(
        request,
        "records/my_consents.html",
        {
            "state": opened.state,
            "sharing": latest_sharing,
            "in_force": [c for c in consents if c.in_force and c.kind != ConsentKind.SHARING],
            "history": consents,
            "care_team": care_team_of(opened),
            "known": professionals_known_to(opened),
        },
    )


def _chosen_professional(request: HttpRequest) -> Professional | None:
    chosen = request.POST.get("professional", "")
    try:
        return Professional.objects.filter(uuid=chosen, active=True).first()
    except ValidationError:  # not a uuid
        return None


@login_required
@require_POST
def change_consent(request: HttpRequest) -> HttpResponse:
    """One endpoint, one decision per button: sharing, oppositions, care team, withdrawals."""
    user = _user(request)
    patient = _own_patient(user)
    decision = request.POST.get("decision", "")
    try:
        message = _apply(user, patient, decision, request)
    except (ValueError, actions.RecordRuleBroken) as error:
        messages.error(request, getattr(error, "message", _("This choice could not be recorded.")))
    else:
        messages.success(request, message)
    return redirect("records:my_consents")


def _apply(user: User, patient: Patient, decision: str, request: HttpRequest) -> str:
    if decision in {"share", "refuse"}:
        actions.set_sharing(user, patient, granted=decision == "share")
        return _("Your choice about sharing is recorded.")
    if decision == "oppose_emergency":
        actions.oppose_emergency_access(user, patient)
        return _("From now on, nobody may open your record in an emergency.")
    if decision in {"oppose", "name"}:
        professional = _chosen_professional(request)
        if professional is None:
            raise ValueError(_("Choose a professional."))
        if decision == "oppose":
            actions.oppose_professional(user, patient, professional)
            return _("%(name)s may no longer open your record.") % {"name": professional}
        actions.name_in_care_team(user, patient, professional)
        return _("%(name)s is now in your care team.") % {"name": professional}
    if decision == "withdraw":
        consent = access.own_consent(user, patient, request.POST.get("consent", ""))
        if consent is None:
            raise ValueError(_("This choice could not be recorded."))
        actions.withdraw_consent(user, consent)
        return _("Withdrawn. The history keeps it.")
    if decision == "end_place":
        member = access.own_care_team_place(user, patient, request.POST.get("member", ""))
        if member is None:
            raise ValueError(_("This choice could not be recorded."))
        actions.end_care_team_place(user, member)
        return _("%(name)s has left your care team.") % {"name": member.professional}
    raise ValueError(_("This choice could not be recorded."))
