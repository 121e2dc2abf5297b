"""The assisted act's pages: the doctor adds the professional beside the patient; a still or a
file sent from the room (thin: the policy and the actions decide)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from maillage.assisted import actions, room
from maillage.assisted.models import ActCode
from maillage.files.storage import Upload
from maillage.policy import teleconsult as policy
from maillage.teleconsult.actions import RoomRuleBroken
from maillage.teleconsult.visitors import from_request


class AssistantForm(forms.Form):
    rpps = forms.RegexField(
        label=gettext_lazy("RPPS number of the nurse or pharmacist"),
        regex=r"^\d{11}$",
        max_length=11,
        error_messages={"invalid": gettext_lazy("An RPPS number has 11 digits.")},
    )
    act_code = forms.ChoiceField(label=gettext_lazy("Act code"), choices=ActCode.choices)


@require_POST
def add_assistant(request: HttpRequest, uuid: object) -> HttpResponse:
    form = AssistantForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("teleconsult:act", uuid=uuid)
    seat, change = policy.seat_for_change(
        from_request(request, uuid), uuid, doctor_only=True, detail={"step": "assistant"}
    )
    try:
        participant = actions.add_assistant_by_rpps(
            seat, change, form.cleaned_data["rpps"], form.cleaned_data["act_code"]
        )
    except RoomRuleBroken as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(name)s takes part in the act beside the patient.")
            % {"name": participant.display_name},
        )
    return redirect("teleconsult:act", uuid=seat.consultation.uuid)


@require_POST
def send_media(request: HttpRequest, uuid: object) -> HttpResponse:
    """A still of the video or a file of the devices: JSON back, the room told per receiver."""
    sent = request.FILES.get("file")
    if sent is None or sent.size is None or sent.size > actions.ROOM_MAX_BYTES:
        message = _("Choose a file of at most %(mb)d MB.") % {
            "mb": actions.ROOM_MAX_BYTES // (1024 * 1024)
        }
        return JsonResponse({"message": message}, status=400)
    upload = Upload(sent.name or "", sent.read())
    try:
        seat = policy.seat_for_reading(
            from_request(request, uuid), uuid, or_doctor=True, detail={"step": "media"}
        )
    except policy.ConsultationNotFound:
        return JsonResponse({"message": _("You may not send readings in this act.")}, status=404)
    captured = request.POST.get("captured") == "1"
    try:
        medium = actions.send_media(seat, request.POST.get("what", ""), upload, captured=captured)
    except actions.ReadingRefused as error:
        return JsonResponse({"message": error.message}, status=400)
    room.publish("assisted.media", room.media_pushes(medium))
    return JsonResponse({"media": room.describe_media(medium)}, status=201)
