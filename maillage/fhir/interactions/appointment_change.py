"""Appointment update (PUT) and patch (PATCH): a booking cancelled or moved by the agenda's actions.

The change is read off the Appointment as the caller may read it (one
opening through ``policy.agenda``, 404 for a stranger and an unknown id
alike), then turned into the one action it means, which decides again for a
change (APPOINTMENT_WRITE), notifies the other side and writes the call's
one audit entry:

- ``status`` booked → cancelled, with ``cancelationReason`` (text, or a
  coding's display) as the reason: ``agenda.actions.cancel`` (the slot is
  free again);
- another ``slot`` (one Slot reference) while booked: ``agenda.actions.move``
  (the same professional's agenda). A move books a *new* appointment and
  cancels this one (``moved_from``), as the pages do: the answer is the new
  Appointment, its URL in ``Content-Location``; this one reads cancelled.

``If-Match`` is honoured (412 when the appointment changed since). The
patient, the professional, the modality and the reason are the booking's:
changing them is a 422 naming the element (book another slot instead);
``start``/``end`` follow the slot (a 422 unless they are the new slot's).
An unknown slot is a 422 (the body's reference is wrong, the URL is not), a
slot no longer free a 409. Other elements changed are not kept (warning).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from fhir.resources.R4B.appointment import Appointment as FhirAppointment

from maillage.accounts.models import User
from maillage.agenda import actions
from maillage.agenda.models import Appointment, AppointmentStatus, Slot, SlotStatus
from maillage.audit.models import Action
from maillage.fhir.created import answer, not_kept
from maillage.fhir.interactions.service_request import reference_parts
from maillage.fhir.mapping.agenda import appointment_resource
from maillage.fhir.outcome import FhirError, Issue
from maillage.fhir.patch import parse_patch
from maillage.fhir.result import FhirResult, Json
from maillage.fhir.router import Call, Interaction, Route
from maillage.fhir.validation import load_json, parse
from maillage.fhir.versions import expected_version, stale
from maillage.policy import agenda as policy
from maillage.policy.gate import NotAllowed, require_purpose

# The booking itself: changed only by booking another slot.
FIXED = ("participant", "serviceType", "appointmentType", "reasonCode", "description")
# Follow the slot.
TIMES = ("start", "end", "minutesDuration")
# Written by the server: sent back as read, or left out, they are no change.
_OURS = frozenset({"resourceType", "id", "meta", "text", "created"})
# Refusals of the actions that say the appointment or slot moved meanwhile.
CONFLICTS = frozenset({"slot_taken", "not_booked"})


def update(call: Call) -> FhirResult:
    body = load_json(call.request.body)
    parse(FhirAppointment, body)
    if body.get("id") != call.resource_id:
        raise FhirError.single(
            400,
            _("The resource's id must be the id of the URL (%(id)s).") % {"id": call.resource_id},
            expression="Appointment.id",
        )
    return _change(call, lambda _current: body)


def patch(call: Call) -> FhirResult:
    patching = parse_patch(call.request.body, call.request.header("content-type"))
    return _change(call, lambda current: patching.apply(current, call.resource_id))


@dataclass(frozen=True)
class Plan:
    """The one action a change means (none: nothing to do), and the elements it uses."""

    step: str | None = None  # "cancel" or "move"
    reason: str = ""
    slot: Slot | None = None
    used: frozenset[str] = field(default_factory=frozenset)


def _change(call: Call, change: Callable[[Json], Json]) -> FhirResult:
    user = call.actor
    try:
        require_purpose(user, Action.APPOINTMENT_WRITE, {"fhir": "Appointment"})
    except NotAllowed:
        raise FhirError(403) from None
    expected = expected_version(call)
    detail = {"fhir": "Appointment", "step": "update"}
    try:
        opening = policy.peek_appointment(user, call.resource_id, detail=detail)
    except policy.AppointmentNotFound:
        raise FhirError(404) from None
    appointment = opening.access.appointment
    # One entry per call: the action audits the change; if none follows (no
    # change, or one refused before any action), the opening is audited here.
    try:
        if expected is not None and expected != appointment.version:
            raise stale(appointment.version)
        current = appointment_resource(appointment)
        wanted = change(current)
        parse(FhirAppointment, wanted)
        plan = _plan(appointment, current, wanted)
    except FhirError:
        opening.audit(**detail, changed=False)
        raise
    warnings = _not_kept(current, wanted, plan.used)
    if plan.step is None:
        opening.audit(**detail, changed=False)
        return _answer(call, appointment, warnings)
    changed = _run(user, appointment, plan)
    return _answer(call, changed, warnings, moved=plan.step == "move")


def _run(user: User, appointment: Appointment, plan: Plan) -> Appointment:
    try:
        if plan.step == "cancel":
            return actions.cancel(user, appointment.uuid, plan.reason)
        assert plan.slot is not None
        return actions.move(user, appointment.uuid, plan.slot.uuid)
    except actions.SlotNotFound:
        raise _unknown_slot() from None
    except policy.AppointmentNotFound:
        # The change refused to this caller (audited by the action): as a stranger.
        raise FhirError(404) from None
    except actions.BookingRefused as refused:
        if refused.failure in CONFLICTS:
            raise FhirError.single(409, refused.message, code="conflict") from None
        raise _invalid(refused.message, _path(plan)) from None


def _path(plan: Plan) -> str:
    return "Appointment.slot" if plan.step == "move" else "Appointment.status"


def _answer(
    call: Call, appointment: Appointment, warnings: list[Issue], *, moved: bool = False
) -> FhirResult:
    # As the action left it (refreshed, or the new one it created): nothing read again.
    resource = appointment_resource(appointment)
    reference = f"Appointment/{appointment.uuid}/_history/{resource['meta']['versionId']}"
    if moved:
        # The representation is of the new appointment: say where it lives (RFC 9110 8.7).
        message = _("Moved: the appointment is now %(reference)s.") % {"reference": reference}
        headers = {"Content-Location": f"{call.request.base_url}/{reference}"}
        return answer(call, resource, warnings, 200, message, headers)
    message = _("Updated: %(reference)s.") % {"reference": reference}
    return answer(call, resource, warnings, 200, message)


def _invalid(message: str, path: str, status: int = 422) -> FhirError:
    return FhirError.single(status, message, code="business-rule", expression=path)


def _unknown_slot() -> FhirError:
    return FhirError.single(
        422, _("No such slot."), code="not-found", expression="Appointment.slot"
    )


def _plan(appointment: Appointment, current: Json, wanted: Json) -> Plan:
    """The action the change means, checked before running so a refusal here is the opening's."""
    for name in FIXED:
        if name in wanted and wanted[name] != current.get(name):
            raise _invalid(
                _(
                    "The patient, the professional, the modality and the reason of an "
                    "appointment do not change: cancel it and book another slot."
                ),
                f"Appointment.{name}",
            )
    before, after = current["status"], wanted.get("status")
    # Left out of a PUT, the slot is kept (it cannot be removed).
    slot_changed = "slot" in wanted and _slot_id(wanted) != _slot_id(current)
    if after != before:
        if after != AppointmentStatus.CANCELLED or before != AppointmentStatus.BOOKED:
            raise _invalid(
                _(
                    "An appointment changes from booked to cancelled (to cancel it) or to "
                    "another slot (to move it); it does not go from %(before)s to %(after)s."
                )
                % {"before": before, "after": after},
                "Appointment.status",
            )
        if slot_changed:
            raise _invalid(
                _("Cancel the appointment or move it to another slot, not both at once."),
                "Appointment.slot",
            )
        _times_kept(current, wanted)
        return Plan(
            "cancel",
            reason=_cancel_reason(wanted),
            used=frozenset({"status", "cancelationReason"}),
        )
    if slot_changed:
        if before != AppointmentStatus.BOOKED:
            raise FhirError.single(409, _("This appointment is no longer booked."), code="conflict")
        slot = _new_slot(wanted)
        _times_of(slot, current, wanted)
        return Plan("move", slot=slot, used=frozenset({"slot", *TIMES}))
    _times_kept(current, wanted)
    return Plan()


def _slot_id(resource: Json) -> str:
    slots = resource.get("slot")
    if slots is None:
        return ""
    if not isinstance(slots, list) or len(slots) != 1 or not isinstance(slots[0], dict):
        raise _invalid(_("Give one Slot reference."), "Appointment.slot")
    kind, raw = reference_parts(str(slots[0].get("reference", "")))
    if kind not in ("", "Slot"):
        raise _invalid(_("The slot must be a Slot of this server."), "Appointment.slot")
    return raw


def _new_slot(wanted: Json) -> Slot:
    try:
        key = uuid.UUID(_slot_id(wanted))
    except ValueError:
        raise _unknown_slot() from None
    slot = Slot.objects.filter(uuid=key).first()
    if slot is None:
        raise _unknown_slot()
    if slot.status != SlotStatus.FREE:
        # Slots are public: saying it is taken tells nothing about anyone.
        raise FhirError.single(409, _("This slot is no longer free."), code="conflict")
    return slot


def _times_kept(current: Json, wanted: Json) -> None:
    for name in TIMES:
        if name in wanted and not _same(wanted[name], current.get(name)):
            raise _moved_by_time(name)


def _times_of(slot: Slot, current: Json, wanted: Json) -> None:
    """With a new slot, the times sent are the old ones (unchanged) or the new slot's."""
    new = {
        "start": slot.start,
        "end": slot.end,
        "minutesDuration": int((slot.end - slot.start).total_seconds() // 60),
    }
    for name in TIMES:
        if name in wanted and not (
            _same(wanted[name], current.get(name)) or _same(wanted[name], new[name])
        ):
            raise _moved_by_time(name)


def _same(sent: object, ours: object) -> bool:
    """The same value, an instant however written (``Z`` or ``+00:00``, another offset)."""
    if sent == ours:
        return True
    instants = [_instant(v) for v in (sent, ours)]
    return None not in instants and instants[0] == instants[1]


def _instant(value: object) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _moved_by_time(name: str) -> FhirError:
    return _invalid(
        _("The time of an appointment is its slot's: to move it, give another Slot."),
        f"Appointment.{name}",
    )


def _cancel_reason(wanted: Json) -> str:
    concept = wanted.get("cancelationReason")
    if not isinstance(concept, dict):
        return ""
    text = str(concept.get("text") or "").strip()
    if text:
        return text
    codings = concept.get("coding") or []
    return next(
        (str(c["display"]).strip() for c in codings if isinstance(c, dict) and c.get("display")),
        "",
    )


def _not_kept(current: Json, wanted: Json, used: frozenset[str]) -> list[Issue]:
    """A warning for each element the client changed that no action took."""
    changed = {
        name
        for name in {*current, *wanted}
        if name not in _OURS
        and name not in used
        and name not in FIXED
        and name in wanted
        and current.get(name) != wanted.get(name)
    }
    return [not_kept(f"Appointment.{name}") for name in sorted(changed)]


_DOCUMENTATION = (
    "PUT or PATCH (JSON Patch, or a merge patch as fhirpy sends) cancels a booked appointment "
    "(status cancelled, cancelationReason as the reason: the slot is free again) or moves it "
    "(another Slot of the same professional: a new appointment is booked, this one cancelled; "
    "the answer is the new one, at Content-Location). Each by those who may change it (the "
    "patient, its professional, the staff of its structure, its booker), who are notified on "
    "the other side; others get 404. If-Match is honoured. The patient, the professional, "
    "the modality and the reason do not change (422); a slot no longer free is a 409."
)

ROUTES = (
    Route(Interaction.UPDATE, update, "Appointment", documentation=_DOCUMENTATION),
    Route(Interaction.PATCH, patch, "Appointment", documentation=_DOCUMENTATION),
)
