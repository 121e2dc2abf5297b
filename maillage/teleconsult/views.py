"""Pages of teleconsultation: the list, a guest's link, the act's page (waiting room and room).

Each view parses, opens the act through ``policy.teleconsult`` (an account
or a guest's seat, ``visitors``), calls one action and renders. The act's
page is one page: the device test, the consent and the waiting room, then
the room, which ``room.js`` switches to when the socket says so.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from maillage.accounts.models import Role, User
from maillage.audit.models import Action
from maillage.files import storage
from maillage.files.responses import stored_file_response
from maillage.policy import teleconsult as policy
from maillage.policy.teleconsult import ConsultationNotFound, Seat
from maillage.records.models import DocumentType
from maillage.teleconsult import actions, room
from maillage.teleconsult.consumers import room_group
from maillage.teleconsult.models import GUEST_ROLES, InvitationChannel, ParticipantRole
from maillage.teleconsult.network import ice_config, ice_url
from maillage.teleconsult.visitors import from_request, remember_guest

# The act's page may use the camera, the microphone and the screen (the
# platform's default Permissions-Policy refuses them everywhere else).
ROOM_PERMISSIONS = "camera=(self), microphone=(self), display-capture=(self), geolocation=()"


@functools.cache
def network_module_present() -> bool:
    """The network slice's room_network.js, loaded before room.js when it is installed."""
    return finders.find("maillage/js/room_network.js") is not None


def room_texts() -> dict[str, Any]:
    """The French texts room.js shows (it builds no sentence of its own)."""
    return {
        "noDevices": _("This browser cannot use a camera or a microphone."),
        "devicesReady": _("Camera and microphone work. You can see yourself above."),
        "microphoneOnly": _("No camera found: the teleconsultation will be by sound only."),
        "devicesRefused": _(
            "The camera and the microphone are refused. Allow them in the browser's settings."
        ),
        "waiting": _("The doctor knows you are here and will let you in. Keep this page open."),
        "statusInProgress": _("in progress"),
        "statusFinished": _("finished"),
        "reconnecting": _("Connection lost, reconnecting…"),
        "reconnectingShort": _("reconnecting"),
        "refused": _("This teleconsultation is not open to you."),
        "nobodyWaits": _("Nobody waits."),
        "waitingSince": _("waiting for %(minutes)s min"),
        "line": _("Line:"),
        "levels": {
            "good": _("good"),
            "fair": _("fair"),
            "poor": _("poor"),
            "lost": _("lost"),
            "unknown": _("unknown"),
        },
        "admit": _("Admit"),
        "someone": _("Participant"),
        "micOff": _("microphone off"),
        "cameraOff": _("camera off"),
        "audioOnlyShort": _("audio only"),
        "adviceAudioOnly": _("The line is weak: switch to audio only?"),
        "adviceVideoBack": _("The line is better: the video can come back."),
        "noScreenShare": _("This browser cannot share its screen."),
        "confirmEnd": _("End the teleconsultation for everyone?"),
        "fileRefused": _("The file could not be shared."),
    }


def _with_devices(response: HttpResponse) -> HttpResponse:
    response.headers["Permissions-Policy"] = ROOM_PERMISSIONS
    return response


# --- Forms -------------------------------------------------------------------------------


class GuestForm(forms.Form):
    birth_date = forms.DateField(
        label=gettext_lazy("The patient's birth date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
    )


class InviteForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Guest's name"), max_length=150)
    role = forms.ChoiceField(
        label=gettext_lazy("Who they are"),
        choices=[(r.value, r.label) for r in ParticipantRole if r in GUEST_ROLES],
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Send the link by"), choices=InvitationChannel.choices
    )
    address = forms.CharField(label=gettext_lazy("Email address or mobile number"), max_length=254)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        address = str(data.get("address", "")).strip()
        if data.get("channel") == InvitationChannel.EMAIL:
            try:
                forms.EmailField().clean(address)
            except forms.ValidationError:
                self.add_error("address", _("Enter a valid email address."))
        elif data.get("channel") == InvitationChannel.SMS:
            digits = address.replace(" ", "").replace(".", "")
            if not digits.lstrip("+").isdigit() or not 10 <= len(digits.lstrip("+")) <= 15:
                self.add_error("address", _("Enter a mobile number (10 digits, or +33…)."))
        return data


class FileForm(forms.Form):
    title = forms.CharField(
        label=gettext_lazy("Title in the record"), max_length=200, required=False
    )
    type = forms.ChoiceField(
        label=gettext_lazy("Type of document"),
        choices=[
            (t.value, t.label)
            for t in (
                DocumentType.PHOTO,
                DocumentType.LAB_RESULTS,
                DocumentType.IMAGING_REPORT,
                DocumentType.PRESCRIPTION,
                DocumentType.LIAISON_LETTER,
                DocumentType.ECG,
                DocumentType.OTHER,
            )
        ],
    )


# --- Lists ----------------------------------------------------------------------------------


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """A doctor's open acts (who waits shows on each act's page); a patient's own."""
    user = request.user
    assert isinstance(user, User)
    if user.role == Role.PATIENT:
        acts = policy.own_acts(user)
    elif user.role in {Role.DOCTOR, Role.NURSE, Role.PHARMACIST}:
        acts = policy.doctors_open_acts(user)
    else:
        raise PermissionDenied
    return render(request, "teleconsult/index.html", {"acts": acts})


@login_required
@require_POST
def from_appointment(request: HttpRequest, appointment_uuid: object) -> HttpResponse:
    """The patient or the doctor of a remote appointment goes to its act (made the first time)."""
    user = request.user
    assert isinstance(user, User)
    try:
        consultation = actions.for_appointment(user, appointment_uuid)
    except actions.RoomRuleBroken as error:
        messages.error(request, error.message)
        return redirect("teleconsult:index")
    return redirect("teleconsult:act", uuid=consultation.uuid)


# --- A guest's link -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def guest(request: HttpRequest, token: str) -> HttpResponse:
    """A guest opens her single-use link; a patient guest types her birth date first."""
    invitation = actions.find_invitation(token)
    asks_birth_date = bool(invitation and invitation.checks_birth_date)
    form = GuestForm(request.POST if request.method == "POST" else None)
    problem = ""
    if request.method == "POST" and form.is_valid():
        birth_date: dt.date | None = form.cleaned_data.get("birth_date")
        if asks_birth_date and birth_date is None:
            form.add_error("birth_date", _("Type the patient's birth date."))
        else:
            try:
                participant = actions.redeem(token, birth_date)
            except actions.InvitationRefused as refused:
                problem = refused.message
            else:
                request.session.cycle_key()
                remember_guest(request.session, participant)
                return redirect("teleconsult:act", uuid=participant.consultation.uuid)
    response = render(
        request,
        "teleconsult/guest.html",
        {"form": form, "asks_birth_date": asks_birth_date, "problem": problem},
        status=400 if problem or form.errors else 200,
    )
    # Nothing of the link (its token) goes to another site; same-origin keeps the form's Origin.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


# --- The act's page ------------------------------------------------------------------------


def _seat(request: HttpRequest, uuid: object, **kw: Any) -> Seat:
    return policy.take_seat(from_request(request, uuid), uuid, **kw)


@require_GET
def act(request: HttpRequest, uuid: object) -> HttpResponse:
    """The waiting room and the room of one act, for a participant."""
    seat = _seat(request, uuid)
    consultation = seat.consultation
    inside = seat.is_doctor or seat.participant.in_room
    context = {
        "seat": seat,
        "consultation": consultation,
        "me": seat.participant,
        "consent_needed": seat.participant.role
        in {ParticipantRole.PATIENT, ParticipantRole.ASSISTANT}
        and not actions.has_consent(consultation),
        "consent_wording": _(actions.CONSENT_WORDING),
        "config": {
            "socket": f"/ws/teleconsult/{consultation.uuid}/",
            "me": str(seat.participant.uuid),
            "doctor": seat.is_doctor,
            "ice": ice_config(str(seat.participant.uuid)),
            "iceUrl": ice_url(consultation.uuid),
            "filesUrl": reverse("teleconsult:share", kwargs={"uuid": consultation.uuid}),
        },
        "files": policy.shared_files(seat) if inside else [],
        "chat": policy.chat_history(seat) if inside else [],
        "texts": room_texts(),
        "network_js": network_module_present(),
        "invite_form": InviteForm() if seat.is_doctor else None,
        "file_form": FileForm() if seat.is_doctor else None,
    }
    return _with_devices(render(request, "teleconsult/act.html", context))


@require_POST
def consent(request: HttpRequest, uuid: object) -> HttpResponse:
    seat, change = policy.seat_for_change(from_request(request, uuid), uuid)
    try:
        actions.give_consent(seat, change)
    except actions.RoomRuleBroken as error:
        messages.error(request, error.message)
    return redirect("teleconsult:act", uuid=seat.consultation.uuid)


@login_required
@require_POST
def invite(request: HttpRequest, uuid: object) -> HttpResponse:
    """The doctor invites a guest; the link is sent, and shown once to copy."""
    form = InviteForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("teleconsult:act", uuid=uuid)
    seat, change = policy.seat_for_change(
        from_request(request, uuid), uuid, doctor_only=True, detail={"step": "invite"}
    )
    try:
        new = actions.invite(seat, change, **form.cleaned_data)
    except actions.RoomRuleBroken as error:
        messages.error(request, error.message)
    else:
        link = request.build_absolute_uri(reverse("teleconsult:guest", args=[new.token]))
        messages.success(
            request,
            _("Invitation sent to %(name)s. Their single-use link: %(link)s")
            % {"name": new.invitation.participant.display_name, "link": link},
        )
    return redirect("teleconsult:act", uuid=seat.consultation.uuid)


@require_POST
def share(request: HttpRequest, uuid: object) -> HttpResponse:
    """A participant in the room shares a file (not in the record until the doctor files it)."""
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"error": _("Choose a file to share.")}, status=400)
    seat, change = policy.seat_for_change(
        from_request(request, uuid), uuid, admitted=True, detail={"step": "share"}
    )
    try:
        shared = actions.share_file(seat, change, upload.read(), upload.name or "fichier")
    except actions.RoomRuleBroken as error:
        return JsonResponse({"error": error.message}, status=400)
    frame = {
        "file": str(shared.uuid),
        "name": shared.file.original_name,
        "from": seat.participant.display_name,
        "url": reverse("teleconsult:shared", args=[seat.consultation.uuid, shared.uuid]),
    }
    room.announce(room_group(seat.consultation.uuid), "file", frame)
    return JsonResponse(frame, status=201)


@require_GET
def shared(request: HttpRequest, uuid: object, file_uuid: object) -> HttpResponse:
    seat = policy.take_seat(
        from_request(request, uuid),
        uuid,
        Action.TELECONSULT_READ,
        admitted=True,
        detail={"shared_file": str(file_uuid)},
    )
    found = policy.shared_file(seat, file_uuid)
    if found is None:
        raise ConsultationNotFound
    return stored_file_response(found.file, storage.read(found.file))


@login_required
@require_POST
def file_in_record(request: HttpRequest, uuid: object, file_uuid: object) -> HttpResponse:
    """The doctor files a shared file in the patient's record (the record's gate decides)."""
    form = FileForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the type of document."))
        return redirect("teleconsult:act", uuid=uuid)
    seat, change = policy.seat_for_change(
        from_request(request, uuid), uuid, doctor_only=True, detail={"step": "file"}
    )
    try:
        actions.file_shared(
            seat, change, file_uuid, form.cleaned_data["type"], form.cleaned_data["title"]
        )
    except actions.RoomRuleBroken as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The file is filed in the patient's record."))
    return redirect("teleconsult:act", uuid=seat.consultation.uuid)
