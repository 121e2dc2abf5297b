"""What the room's socket does for the assisted act, synchronously, through the policy.

The consumer runs these in a worker thread (``RoomConsumer._call``, with
its audit context); they return plain data for the frames. What goes live
to the room (a reading, a medium, a mark) goes as ``Pushes``: one frame per
receiver the policy granted (``policy.measurements.live_receivers``: each
participant decided and audited), never to the act's group as a whole.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from maillage.assisted import actions
from maillage.assisted.asks import BY_KIND, Ask
from maillage.lib.manual_entry import UNIT_LABELS
from maillage.measurements.codes import CODES, COMPONENTS
from maillage.measurements.models import Media, MediaKind, Observation
from maillage.policy import measurements as readings_policy
from maillage.policy import teleconsult as policy
from maillage.policy.teleconsult import Seat
from maillage.realtime.layer import send_to_group
from maillage.teleconsult.actions import RoomRuleBroken
from maillage.teleconsult.consumers import participant_group

# (receiver participant's public id, the frame's data for her)
Pushes = list[tuple[str, dict[str, Any]]]


def pushes(
    act_uuid: object,
    items: list[Observation] | list[Media],
    frame: Callable[[list[Any]], dict[str, Any]],
) -> Pushes:
    """One frame per receiver the policy grants, holding only what she is shown."""
    return [
        (str(place.uuid), frame(shown))
        for place, shown in readings_policy.live_receivers(act_uuid, items)
    ]


def publish(kind: str, to: Pushes) -> None:
    """Pushes from a page's request (not the socket): through the channel layer, after the
    commit (what a rolled-back write stored is never shown)."""
    for receiver, data in to:
        message = {"type": "room.frame", "kind": kind, "data": data}
        group = participant_group(receiver)
        transaction.on_commit(partial(send_to_group, group, message))


def ask_data(ask: Ask) -> dict[str, Any]:
    return {
        "kind": ask.kind,
        "label": str(ask.label),
        "instructions": [str(line) for line in ask.instructions],
        "bluetooth": ask.bluetooth,
        "manual": ask.manual,
    }


def ask(seat: Seat, kind: str) -> tuple[dict[str, Any], list[str]]:
    """The doctor's request, and the participants it goes to (the act's assistants in the room)."""
    seat, change = policy.seat_for_change(
        seat.visitor, seat.consultation.uuid, admitted=True, doctor_only=True
    )
    request = actions.ask(seat, change, kind)
    receivers = [str(p.uuid) for p in policy.assistants(seat) if p.in_room]
    return {
        "request": str(request.uuid),
        "at": request.asked_at.isoformat(),
        **ask_data(BY_KIND[kind]),
    }, receivers


def _number(value: Decimal | str) -> str:
    return number_format(Decimal(format(Decimal(value).normalize(), "f")))


def _unit(unit: str) -> str:
    return UNIT_LABELS.get(unit, unit)


def describe(reading: Observation) -> dict[str, Any]:
    """A stored reading as the doctor's room shows it (values in the record's units)."""
    code = CODES.get(reading.code)
    if reading.components:
        by_code = {c["code"]: c for c in reading.components}
        parts = [by_code[c] for c in ("8480-6", "8462-4") if c in by_code]
        text = "/".join(_number(p["value"]) for p in parts) + " " + _unit(parts[0]["unit"])
        mean = by_code.get("8478-0")
        if mean is not None:
            text += f" ({COMPONENTS['8478-0'].label} {_number(mean['value'])})"
    else:
        text = f"{_number(reading.value or Decimal(0))} {_unit(reading.unit)}"
    device = reading.device
    return {
        "observation": str(reading.uuid),
        "code": reading.code,
        "label": capfirst(str(code.label)) if code is not None else reading.code,
        "time": timezone.localtime(reading.effective_at).strftime("%H:%M"),
        "text": text,
        "at": reading.effective_at.isoformat(),
        "method": reading.method,
        "methodLabel": str(reading.get_method_display()),
        "device": " ".join(p for p in (device.manufacturer, device.model_number) if p)
        if device is not None
        else "",
        "performer": reading.performer_label,
        "significant": reading.significant,
    }


def send_reading(seat: Seat, data: dict[str, Any]) -> Pushes:
    """The assistant's reading: her seat decided (a refusal audited), stored, pushed to each."""
    seat = policy.seat_for_reading(seat.visitor, seat.consultation.uuid)
    if data["source"] == "device":
        sent = actions.send_device_reading(seat, data)
    else:
        sent = actions.send_manual_reading(seat, data)
    described = {str(o.uuid): describe(o) for o in sent.observations}

    def frame(shown: list[Any]) -> dict[str, Any]:
        return {
            "readings": [described[str(o.uuid)] for o in shown],
            "warnings": sent.warnings,
            "request": data.get("request", ""),
        }

    return pushes(seat.consultation.uuid, sent.observations, frame)


def mark(seat: Seat, reading_uuid: str, significant: bool) -> Pushes:
    """The act's doctor marks a reading (``policy.measurements`` decides and audits)."""
    if not seat.is_doctor or seat.user is None:
        raise RoomRuleBroken(_("Only the doctor of the act marks a reading."))
    reading = actions.mark(seat.user, reading_uuid, significant)
    marked = {"observation": str(reading.uuid), "significant": reading.significant}
    return pushes(seat.consultation.uuid, [reading], lambda _shown: marked)


def mark_media(seat: Seat, reading_uuid: str, significant: bool) -> Pushes:
    """The act's doctor marks a photo, sound or tracing of the act."""
    if not seat.is_doctor or seat.user is None:
        raise RoomRuleBroken(_("Only the doctor of the act marks a reading."))
    medium = actions.mark_media(seat.user, reading_uuid, significant)
    marked = {"media": str(medium.uuid), "significant": medium.significant}
    return pushes(seat.consultation.uuid, [medium], lambda _shown: marked)


def describe_media(medium: Media) -> dict[str, Any]:
    """A stored medium as the room shows it: its file through the audited file URL."""
    return {
        "media": str(medium.uuid),
        "kind": medium.kind,
        "kindLabel": capfirst(str(medium.get_kind_display())),
        "title": medium.title,
        "time": timezone.localtime(medium.taken_at).strftime("%H:%M"),
        "performer": medium.performer_label,
        "significant": medium.significant,
        "image": medium.kind == MediaKind.PHOTO,
        "url": reverse("measurements:media_file", args=[medium.uuid]),
    }


def media_pushes(medium: Media) -> Pushes:
    described = describe_media(medium)
    assert medium.encounter is not None
    return pushes(medium.encounter.uuid, [medium], lambda _shown: {"media": [described]})
