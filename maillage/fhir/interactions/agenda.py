"""Schedule, Slot and Appointment: agendas searched, a free slot booked by creating an Appointment.

Schedules and slots say who receives when, where and how: no patient data,
read by any signed-in caller (as the directory). An Appointment is a
patient's: a read is ``policy.agenda.open_appointment`` (one audited entry;
404 for a stranger and an unknown id alike); a search lists the
appointments the caller may (her own for a patient, those she takes part
in otherwise) and opens each one returned the same way.

Booking is a create: ``status`` booked (or proposed/pending, read as a
request to book), one ``slot``, the Patient among the participants, the
modality in ``serviceType`` (our code) or ``appointmentType`` (ActCode
``VR`` / ``AMB``), required when the slot is offered both ways, and the
reason in ``reasonCode`` (text or a coding's display) or ``description``.
It runs ``agenda.actions.book``: the policy decides the patient and the
agenda; the slot is taken by a conditional UPDATE, so a slot booked
meanwhile is a 409 and the slot becomes busy. Other elements are not kept
(a warning names them).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.db.models import Q
from django.utils.translation import gettext as _
from fhir.resources.R4B.appointment import Appointment as FhirAppointment

from maillage.accounts.models import User
from maillage.agenda import actions
from maillage.agenda.models import AppointmentStatus, Schedule, Slot, SlotModality, SlotStatus
from maillage.audit.models import Action
from maillage.fhir.created import created, not_kept
from maillage.fhir.interactions.common import uuid_or_404
from maillage.fhir.interactions.service_request import reference_parts
from maillage.fhir.mapping.agenda import (
    ACT_CODE,
    MODALITY_CODE,
    MODALITY_OF_ACT,
    MODALITY_OF_CODE,
    MODALITY_SYSTEM,
    appointment_resource,
    schedule_resource,
    slot_resource,
)
from maillage.fhir.outcome import FhirError
from maillage.fhir.result import FhirResult, Json
from maillage.fhir.router import Call, Interaction, Route
from maillage.fhir.search import (
    Match,
    ParamType,
    SearchParam,
    SearchQuery,
    all_of,
    general_params,
    ids_q,
    invalid_value,
    ordering,
    page,
    period_q,
    reference_id,
    searchset,
    token,
)
from maillage.fhir.systems import ACT_CODE_SYSTEM
from maillage.fhir.validation import load_json, parse
from maillage.policy import agenda as policy
from maillage.policy.gate import NotAllowed, require_purpose

# --- Schedule ----------------------------------------------------------------------


def _service_type_q(field: str, slot_side: bool) -> Callable[[str], Q]:
    """``service-type`` as our modality code (or an ActCode VR/AMB)."""

    def one(value: str) -> Q:
        wanted = token(value)
        modality = None
        if wanted.system in (None, MODALITY_SYSTEM):
            modality = MODALITY_OF_CODE.get(wanted.code)
        if modality is None and wanted.system in (None, ACT_CODE_SYSTEM):
            modality = MODALITY_OF_ACT.get(wanted.code)
        if modality is None:
            raise invalid_value(
                "service-type",
                value,
                _("Accepted: %(codes)s.")
                % {"codes": ", ".join([*MODALITY_CODE.values(), *ACT_CODE.values()])},
            )
        if slot_side:
            return Q(**{f"{field}__in": (modality, SlotModality.BOTH)})
        return Q(**{field: modality})

    return one


def _actor_q(value: str) -> Q:
    kind, raw = reference_parts(value)
    try:
        found = uuid.UUID(raw)
    except ValueError:
        return Q(pk__in=[])
    if kind in ("", "Practitioner"):
        return Q(professional__uuid=found)
    if kind == "Location":
        return Q(structure__uuid=found)
    raise invalid_value("actor", value, _("It must refer to a Practitioner or a Location."))


def _bool_q(name: str, field: str) -> Callable[[str], Q]:
    def one(value: str) -> Q:
        if value not in ("true", "false"):
            raise invalid_value(name, value, _("Accepted: true, false."))
        return Q(**{field: value == "true"})

    return one


SCHEDULE_PARAMS = (
    SearchParam("actor", ParamType.REFERENCE, "Practitioner/id or Location/id."),
    SearchParam("active", ParamType.TOKEN, "true or false."),
    SearchParam(
        "service-type",
        ParamType.TOKEN,
        f"in-person or remote ({MODALITY_SYSTEM}), or VR / AMB ({ACT_CODE_SYSTEM}).",
    ),
    *general_params(sort=("_lastUpdated",)),
)


def schedule_read(call: Call) -> FhirResult:
    schedule = (
        Schedule.objects.select_related("professional", "structure")
        .filter(uuid=uuid_or_404(call.resource_id))
        .first()
    )
    if schedule is None:
        raise FhirError(404)
    return FhirResult(schedule_resource(schedule))


def _schedule_service_q(value: str) -> Q:
    wanted = token(value)
    modality = MODALITY_OF_CODE.get(wanted.code) or MODALITY_OF_ACT.get(wanted.code)
    if modality is None:
        raise invalid_value("service-type", value, _("Accepted: in-person, remote, VR, AMB."))
    # Every agenda offers remote; in person needs a place.
    return Q(structure__isnull=False) if modality == "in_person" else Q()


def schedule_search(call: Call) -> FhirResult:
    query = call.query
    rows = (
        Schedule.objects.select_related("professional", "structure")
        .filter(
            all_of(query, "actor", _actor_q)
            & all_of(query, "active", _bool_q("active", "active"))
            & all_of(query, "service-type", _schedule_service_q)
            & ids_q(query)
            & period_q(query, "_lastUpdated", "updated_at")
        )
        .order_by(*ordering(query, {"_lastUpdated": ("updated_at",)}, ("pk",)))
    )
    found, total = page(rows, query)
    return searchset(call, [Match(schedule_resource(s)) for s in found], total)


# --- Slot ----------------------------------------------------------------------------


SLOT_PARAMS = (
    SearchParam("schedule", ParamType.REFERENCE, "Schedule/id."),
    SearchParam(
        "start",
        ParamType.DATE,
        "The slot's start: YYYY-MM-DD or a dateTime, with a prefix (ge, lt...).",
    ),
    SearchParam("status", ParamType.TOKEN, "free, busy or busy-unavailable."),
    SearchParam(
        "service-type",
        ParamType.TOKEN,
        f"in-person or remote ({MODALITY_SYSTEM}), or VR / AMB ({ACT_CODE_SYSTEM}); "
        "a slot offered both ways matches both.",
    ),
    *general_params(sort=("start", "_lastUpdated")),
)


def _schedule_q(value: str) -> Q:
    found = reference_id("schedule", value, "Schedule")
    return Q(schedule__uuid=found) if found is not None else Q(pk__in=[])


def _slot_status_q(value: str) -> Q:
    wanted = token(value)
    if wanted.code not in SlotStatus.values:
        raise invalid_value(
            "status", value, _("Accepted: %(codes)s.") % {"codes": ", ".join(SlotStatus.values)}
        )
    return Q(status=wanted.code)


def slot_read(call: Call) -> FhirResult:
    slot = Slot.objects.select_related("schedule").filter(uuid=uuid_or_404(call.resource_id))
    found = slot.first()
    if found is None:
        raise FhirError(404)
    return FhirResult(slot_resource(found))


def slot_search(call: Call) -> FhirResult:
    query = call.query
    rows = (
        Slot.objects.select_related("schedule")
        .filter(
            all_of(query, "schedule", _schedule_q)
            & period_q(query, "start", "start")
            & all_of(query, "status", _slot_status_q)
            & all_of(query, "service-type", _service_type_q("modality", True))
            & ids_q(query)
            & period_q(query, "_lastUpdated", "updated_at")
        )
        .order_by(
            *ordering(
                query, {"start": ("start",), "_lastUpdated": ("updated_at",)}, ("start", "pk")
            )
        )
    )
    found, total = page(rows, query)
    return searchset(call, [Match(slot_resource(s)) for s in found], total)


# --- Appointment ----------------------------------------------------------------------


def _require_appointments(user: User) -> None:
    try:
        require_purpose(user, Action.APPOINTMENT_READ, {"fhir": "Appointment"})
    except NotAllowed:
        raise FhirError(403) from None


def appointment_read(call: Call) -> FhirResult:
    _require_appointments(call.actor)
    try:
        access = policy.open_appointment(
            call.actor, call.resource_id, detail={"fhir": "Appointment"}
        )
    except policy.AppointmentNotFound:
        raise FhirError(404) from None
    return FhirResult(appointment_resource(access.appointment))


APPOINTMENT_PARAMS = (
    SearchParam("patient", ParamType.REFERENCE, "The patient, as Patient/id."),
    SearchParam("practitioner", ParamType.REFERENCE, "The professional, as Practitioner/id."),
    SearchParam("date", ParamType.DATE, "The start, with a prefix if needed."),
    SearchParam("status", ParamType.TOKEN, "booked, fulfilled, cancelled or noshow."),
    SearchParam("slot", ParamType.REFERENCE, "Slot/id."),
    *general_params(sort=("date", "_lastUpdated")),
)


def _appointment_status_q(value: str) -> Q:
    wanted = token(value)
    if wanted.code not in AppointmentStatus.values:
        raise invalid_value(
            "status",
            value,
            _("Accepted: %(codes)s.") % {"codes": ", ".join(AppointmentStatus.values)},
        )
    return Q(status=wanted.code)


def _ref_q(name: str, resource_type: str, field: str) -> Callable[[str], Q]:
    def one(value: str) -> Q:
        found = reference_id(name, value, resource_type)
        return Q(**{field: found}) if found is not None else Q(pk__in=[])

    return one


def _appointment_criteria(query: SearchQuery) -> Q:
    return (
        all_of(query, "patient", _ref_q("patient", "Patient", "patient__uuid"))
        & all_of(
            query, "practitioner", _ref_q("practitioner", "Practitioner", "professional__uuid")
        )
        & all_of(query, "slot", _ref_q("slot", "Slot", "slot__uuid"))
        & all_of(query, "status", _appointment_status_q)
        & period_q(query, "date", "start")
        & ids_q(query)
        & period_q(query, "_lastUpdated", "updated_at")
    )


def appointment_search(call: Call) -> FhirResult:
    query = call.query
    criteria = _appointment_criteria(query)
    _require_appointments(call.actor)
    rows = (
        policy.visible_appointments(call.actor)
        .filter(criteria)
        .order_by(
            *ordering(query, {"date": ("start",), "_lastUpdated": ("updated_at",)}, ("start", "pk"))
        )
    )
    found, total = page(rows.only("uuid"), query)
    matches = []
    for row in found:
        try:
            access = policy.open_appointment(
                call.actor, row.uuid, detail={"fhir": "Appointment", "search": True}
            )
        except policy.AppointmentNotFound:
            total -= 1
            continue
        matches.append(Match(appointment_resource(access.appointment)))
    return searchset(call, matches, total)


KNOWN_ELEMENTS = frozenset(
    {
        "resourceType",
        "id",
        "meta",
        "text",
        "status",
        "serviceType",
        "appointmentType",
        "reasonCode",
        "description",
        "slot",
        "participant",
        "start",
        "end",
        "minutesDuration",
        "comment",
    }
)
PATHS = {"modality": "Appointment.serviceType", "reason": "Appointment.reasonCode"}


def _invalid(message: str, path: str) -> FhirError:
    return FhirError.single(422, message, code="business-rule", expression=path)


def _slot_of(resource: FhirAppointment) -> str:
    slots = resource.slot or []
    if len(slots) != 1:
        raise _invalid(_("Book one slot: give one Slot reference."), "Appointment.slot")
    kind, raw = reference_parts(slots[0].reference or "")
    if kind not in ("", "Slot"):
        raise _invalid(_("The slot must be a Slot of this server."), "Appointment.slot")
    return raw


def _patient_of(resource: FhirAppointment) -> str:
    for index, participant in enumerate(resource.participant or []):
        actor = participant.actor
        kind, raw = reference_parts(actor.reference or "") if actor is not None else ("", "")
        if kind == "Patient":
            return raw
        if actor is None:
            raise _invalid(
                _("Each participant needs an actor."), f"Appointment.participant[{index}]"
            )
    raise _invalid(
        _("Name the patient among the participants (Patient/id)."), "Appointment.participant"
    )


def _modality_of(resource: FhirAppointment, slot_modality: str | None) -> str:
    found: set[str] = set()
    for concept in [*(resource.serviceType or []), resource.appointmentType]:
        for c in (concept.coding or []) if concept is not None else []:
            if c.system == MODALITY_SYSTEM and c.code in MODALITY_OF_CODE:
                found.add(MODALITY_OF_CODE[c.code])
            elif c.system == ACT_CODE_SYSTEM and c.code in MODALITY_OF_ACT:
                found.add(MODALITY_OF_ACT[c.code])
    if len(found) > 1:
        raise _invalid(_("Choose one modality: in person or remote."), "Appointment.serviceType")
    if found:
        return found.pop()
    if slot_modality in ("in_person", "remote"):
        return slot_modality
    raise _invalid(
        _(
            "This slot is offered in person and remote: say which in serviceType "
            "(%(system)s) or appointmentType (VR or AMB)."
        )
        % {"system": MODALITY_SYSTEM},
        "Appointment.serviceType",
    )


def _reason_of(resource: FhirAppointment) -> str:
    for concept in resource.reasonCode or []:
        text = concept.text or next((c.display for c in concept.coding or [] if c.display), "")
        if text and text.strip():
            return text.strip()
    return (resource.description or "").strip()


def appointment_create(call: Call) -> FhirResult:
    user = call.actor
    try:
        require_purpose(user, Action.APPOINTMENT_BOOK, {"fhir": "Appointment"})
    except NotAllowed:
        raise FhirError(403) from None
    body = load_json(call.request.body)
    resource = parse(FhirAppointment, body)
    if resource.status not in ("booked", "proposed", "pending"):
        raise _invalid(
            _("An appointment is created booked (or proposed, read as a request to book)."),
            "Appointment.status",
        )
    warnings = [not_kept(f"Appointment.{name}") for name in body if name not in KNOWN_ELEMENTS]
    slot_id = _slot_of(resource)
    slot = Slot.objects.filter(uuid=_uuid_or(slot_id)).values_list("modality", "status").first()
    if slot is None:
        raise FhirError.single(
            404, _("No such slot."), code="not-found", expression="Appointment.slot"
        )
    if slot[1] != SlotStatus.FREE:
        # Slots are public: saying it is taken tells nothing about anyone.
        raise FhirError.single(409, _("This slot is no longer free."), code="conflict")
    booking = actions.Booking(
        slot_id, _patient_of(resource), _modality_of(resource, slot[0]), _reason_of(resource)
    )
    try:
        appointment = actions.book(user, booking)
    except actions.SlotNotFound:
        raise FhirError.single(
            404, _("No such slot."), code="not-found", expression="Appointment.slot"
        ) from None
    except policy.AppointmentNotFound:
        raise FhirError.single(
            404,
            _("No such patient, or you may not book for her in this agenda."),
            code="not-found",
            expression="Appointment.participant",
        ) from None
    except actions.BookingRefused as refused:
        if refused.failure == "slot_taken":
            raise FhirError.single(409, refused.message, code="conflict") from None
        raise _invalid(refused.message, PATHS.get(refused.field or "", "Appointment")) from None
    appointment = (
        type(appointment)
        .objects.select_related("patient", "professional", "structure", "slot")
        .get(pk=appointment.pk)
    )
    resource_json: Json = appointment_resource(appointment)
    location = f"{call.request.base_url}/Appointment/{appointment.uuid}"
    return created(call, resource_json, warnings, location)


def _uuid_or(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        return uuid.UUID(int=0)


_SCHEDULE_DOC = (
    "An agenda: one professional (Practitioner) at one place (Location), or remote only. "
    "No patient data; any signed-in caller reads them."
)
_SLOT_DOC = (
    "A bookable time of a Schedule, generated ahead from weekly availability. serviceType says "
    f"in person or remote ({MODALITY_SYSTEM}); free, busy, or busy-unavailable (an absence)."
)
_APPOINTMENT_DOC = (
    "A booking. Read and searched by the patient and by those who take part in it (its "
    "professional, the staff of its structure, whoever booked it), each read audited. Created "
    "on a free Slot (status booked, the Patient as participant, the modality in serviceType or "
    "appointmentType VR/AMB, the reason in reasonCode): the slot becomes busy; a slot booked "
    "meanwhile is a 409."
)

ROUTES = (
    Route(Interaction.READ, schedule_read, "Schedule", documentation=_SCHEDULE_DOC),
    Route(
        Interaction.SEARCH_TYPE,
        schedule_search,
        "Schedule",
        SCHEDULE_PARAMS,
        documentation=_SCHEDULE_DOC,
    ),
    Route(Interaction.READ, slot_read, "Slot", documentation=_SLOT_DOC),
    Route(Interaction.SEARCH_TYPE, slot_search, "Slot", SLOT_PARAMS, documentation=_SLOT_DOC),
    Route(Interaction.READ, appointment_read, "Appointment", documentation=_APPOINTMENT_DOC),
    Route(
        Interaction.SEARCH_TYPE,
        appointment_search,
        "Appointment",
        APPOINTMENT_PARAMS,
        documentation=_APPOINTMENT_DOC,
    ),
    Route(Interaction.CREATE, appointment_create, "Appointment", documentation=_APPOINTMENT_DOC),
)
