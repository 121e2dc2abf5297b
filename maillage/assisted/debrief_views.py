"""The debrief page after an assisted act, its orientation steps, the prescription and summary.

Thin: each view parses, opens the act through ``policy.orientation`` (its
doctor and its assistant only; the opening audited), calls one action or
reads what the seat opened, and renders. A step refused comes back as a
French message on the page; a refused seat is a 404 that tells nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from maillage.accounts.models import Role, User
from maillage.agenda.models import Modality
from maillage.assisted import debrief, orientation
from maillage.assisted.debrief import DEFAULT_RADIUS_KM, Debrief, Search
from maillage.directory.forms import RADIUS_CHOICES
from maillage.directory.terminology import Specialty
from maillage.files import storage
from maillage.files.responses import stored_file_response
from maillage.policy import orientation as policy
from maillage.policy.teleconsult import Visitor


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _visitor(request: HttpRequest) -> Visitor:
    return Visitor(user=_user(request))


class SearchForm(forms.Form):
    specialty = forms.ChoiceField(
        label=gettext_lazy("Specialty"),
        choices=[
            ("", gettext_lazy("Any specialty")),
            *sorted(Specialty.choices, key=lambda c: str(c[1])),
        ],
        required=False,
    )
    modality = forms.ChoiceField(
        label=gettext_lazy("Consultation"),
        choices=Modality.choices,
        initial=Modality.IN_PERSON,
        widget=forms.RadioSelect,
    )
    radius = forms.TypedChoiceField(
        label=gettext_lazy("Within (in person)"),
        choices=RADIUS_CHOICES,
        coerce=float,
        empty_value=None,
        required=False,
    )

    def search(self) -> Search:
        data = self.cleaned_data
        return Search(data["specialty"], data["modality"], data["radius"])

    @staticmethod
    def query(search: Search) -> str:
        radius = "" if search.radius_km is None else str(int(search.radius_km))
        return urlencode(
            {"specialty": search.specialty, "modality": search.modality, "radius": radius}
        )


class ProposeForm(forms.Form):
    slot = forms.UUIDField()
    modality = forms.ChoiceField(choices=Modality.choices)


class ChoiceForm(forms.Form):
    choice = forms.ChoiceField(choices=[("accepted", "accepted"), ("refused", "refused")])
    reason = forms.CharField(
        label=gettext_lazy("Her reason, if she gives one"),
        max_length=orientation.REASON_MAX,
        required=False,
        error_messages={
            "max_length": gettext_lazy("The reason is too long (300 characters at most).")
        },
    )


def _search(request: HttpRequest, report: Any) -> tuple[SearchForm, Search | None]:
    """The assistant's search if she made one, else the one the report's orientation suggests."""
    if "modality" in request.GET:
        form = SearchForm(request.GET)
        return form, form.search() if form.is_valid() else None
    suggested = debrief.preset(report)
    shown = suggested or Search()
    form = SearchForm(
        initial={
            "specialty": shown.specialty,
            "modality": shown.modality,
            "radius": "" if shown.radius_km is None else str(int(shown.radius_km)),
        }
    )
    return form, suggested


@login_required
@require_GET
def debrief_page(request: HttpRequest, uuid: object) -> HttpResponse:
    seat = policy.debrief_seat(_visitor(request), uuid)
    report = policy.report_of(seat)
    shown = Debrief(seat, report, policy.proposals(seat))
    form, search = _search(request, report)
    offers = debrief.offers(seat, search) if search is not None else None
    return render(
        request,
        "assisted/debrief.html",
        {
            **shown.context(),
            "form": form,
            "offers": offers,
            "search_query": SearchForm.query(search or Search()),
            "modality": (search or Search()).modality,
            "default_radius": int(DEFAULT_RADIUS_KM),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_GET
def status(request: HttpRequest, uuid: object) -> HttpResponse:
    """Asked by the page while the report is open: 204, or reload once it is closed."""
    seat = policy.peek_debrief(_visitor(request), uuid)
    if not policy.report_closed(seat):
        return HttpResponse(status=204)
    response = HttpResponse(status=200)
    response["HX-Refresh"] = "true"
    return response


def _back(uuid: object, query: str = "") -> HttpResponse:
    url = reverse("assisted:debrief", kwargs={"uuid": uuid})
    return redirect(f"{url}?{query}#orientation" if query else f"{url}#orientation")


@login_required
@require_POST
def propose(request: HttpRequest, uuid: object) -> HttpResponse:
    form = ProposeForm(request.POST)
    search = SearchForm(request.POST)
    query = SearchForm.query(search.search()) if search.is_valid() else ""
    if not form.is_valid():
        messages.error(request, _("Choose a slot to propose."))
        return _back(uuid, query)
    seat, change = policy.debrief_for_change(_visitor(request), uuid, step="orientation_propose")
    try:
        proposal = orientation.propose(
            seat, change, form.cleaned_data["slot"], form.cleaned_data["modality"]
        )
    except orientation.OrientationRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _("Proposed to the patient: %(name)s, %(when)s. Record her answer below.")
            % {
                "name": proposal.professional.display_name,
                "when": timezone.localtime(proposal.proposed_start).strftime("%d/%m/%Y %H:%M"),
            },
        )
    return _back(uuid, query)


@login_required
@require_POST
def choose(request: HttpRequest, uuid: object, proposal: object) -> HttpResponse:
    form = ChoiceForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return _back(uuid)
    choice = form.cleaned_data["choice"]
    seat, change = policy.debrief_for_change(_visitor(request), uuid, step=f"orientation_{choice}")
    try:
        if choice == "accepted":
            done = orientation.accept(seat, change, proposal)
        else:
            done = orientation.refuse(seat, change, proposal, form.cleaned_data["reason"])
    except orientation.OrientationRefused as refused:
        messages.error(request, refused.message)
    else:
        if done.appointment is not None:
            messages.success(
                request,
                _("The patient accepted: appointment booked with %(name)s on %(when)s.")
                % {
                    "name": done.professional.display_name,
                    "when": timezone.localtime(done.appointment.start).strftime("%d/%m/%Y %H:%M"),
                },
            )
        else:
            messages.success(request, _("The patient's refusal is recorded."))
    return _back(uuid)


@login_required
@require_GET
def prescription(request: HttpRequest, uuid: object) -> HttpResponse:
    """The prescription filed in the record at the report's closing, to print (audited)."""
    found = policy.prescription(_visitor(request), uuid)
    if found is None:
        messages.error(request, _("There is no prescription to print for this act."))
        return redirect("assisted:debrief", uuid=uuid)
    _seat, _document, stored = found
    try:
        data = storage.read(stored)
    except storage.CorruptedFile:
        messages.error(request, _("The prescription's file is damaged: ask the doctor."))
        return redirect("assisted:debrief", uuid=uuid)
    return stored_file_response(stored, data)


@login_required
@require_GET
def summary(request: HttpRequest, uuid: object) -> HttpResponse:
    """The summary the patient takes home (conclusion, prescriptions, her choices, contacts)."""
    seat = policy.debrief_seat(_visitor(request), uuid, step="debrief_summary")
    pdf = debrief.render_summary(Debrief(seat, policy.report_of(seat), policy.proposals(seat)))
    response = HttpResponse(pdf, content_type="application/pdf")
    day = timezone.localdate(seat.consultation.started_at or timezone.now())
    response["Content-Disposition"] = (
        f'inline; filename="resume-teleconsultation-{day:%Y-%m-%d}.pdf"'
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """The acts the nurse or pharmacist assisted lately, each with its debrief."""
    user = _user(request)
    if user.role not in {Role.NURSE, Role.PHARMACIST}:
        raise PermissionDenied
    return render(request, "assisted/debrief_list.html", {"acts": policy.assisted_acts(user)})
