"""``{% assisted_room seat %}``: the assisted act's part of the room page.

For the doctor: who assists (act code, place, the place's equipment from the
directory), the measurement buttons and the readings of the act (read through
``policy.measurements``: one audited read). For the assistant with an account:
the doctor's request, her devices and the manual entry. Nothing for the others.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.http import Http404
from django.urls import reverse

from maillage.assisted.actions import FILE_KINDS, file_kind_label
from maillage.assisted.asks import ASKS, BY_KIND
from maillage.assisted.models import Assistance, MeasurementRequest
from maillage.assisted.room import ask_data, describe, describe_media
from maillage.assisted.views import AssistantForm
from maillage.lib.bluetooth import Measure
from maillage.lib.manual_entry import PRESSURE_UNITS, RULES, UNIT_LABELS
from maillage.policy import measurements
from maillage.policy import teleconsult as policy
from maillage.policy.teleconsult import Seat
from maillage.teleconsult.models import ParticipantRole

register = template.Library()


def _units(manual: str) -> list[dict[str, str]]:
    units = PRESSURE_UNITS if manual == "blood_pressure" else RULES[Measure(manual)].units
    return [{"code": u, "label": UNIT_LABELS.get(u, u)} for u in units]


def _readings(seat: Seat) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The act's readings and media, for the seat's account (one audited read of the readings)."""
    assert seat.user is not None
    try:
        opened = measurements.open_readings(
            seat.user, seat.patient, detail={"consultation": str(seat.consultation.uuid)}
        )
    except Http404:
        return [], []
    rows = opened.observations().filter(encounter_id=seat.consultation.pk)
    media = opened.media().filter(encounter_id=seat.consultation.pk)
    return (
        [describe(o) for o in rows.exclude(status="entered-in-error")[:50]],
        [describe_media(m) for m in reversed(media.exclude(status="entered-in-error")[:50])],
    )


def _last_request(seat: Seat) -> dict[str, Any] | None:
    last = MeasurementRequest.objects.filter(consultation_id=seat.consultation.pk).last()
    if last is None or last.kind not in BY_KIND:
        return None
    return {
        "request": str(last.uuid),
        "at": last.asked_at.isoformat(),
        **ask_data(BY_KIND[last.kind]),
    }


@register.inclusion_tag("assisted/_room.html", takes_context=True)
def assisted_room(context: template.Context, seat: Seat) -> dict[str, Any]:
    role = seat.participant.role
    is_assistant = role == ParticipantRole.ASSISTANT and seat.user is not None
    if not (seat.is_doctor or is_assistant) or seat.user is None:
        return {"shown": False}
    helpers = policy.assistants(seat)
    assistances = (
        Assistance.objects.filter(participant__in=helpers)
        .select_related("participant", "place")
        .prefetch_related("place__equipment")
    )
    manual = [a for a in ASKS if a.manual]
    readings, media = _readings(seat)
    return {
        "shown": True,
        "csrf_token": context.get("csrf_token"),
        "consultation": seat.consultation,
        "assistant_form": AssistantForm() if seat.is_doctor and seat.consultation.is_open else None,
        "doctor": seat.is_doctor,
        "assistant": is_assistant,
        "assistances": list(assistances),
        "asks": ASKS,
        "manual_asks": manual,
        "readings": readings,
        "file_kinds": [(k, file_kind_label(k)) for k in FILE_KINDS],
        "config": {
            "doctor": seat.is_doctor,
            "csrf": str(context.get("csrf_token", "")),
            "mediaUrl": reverse("assisted:send_media", args=[seat.consultation.uuid]),
            "media": media,
            # The doctor's last request, for an assistant's page opened (or reloaded) after it.
            "request": _last_request(seat) if is_assistant else None,
            "asks": {a.kind: ask_data(a) for a in ASKS},
            "units": {a.kind: _units(a.manual) for a in manual},
        },
    }
