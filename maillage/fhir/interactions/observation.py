"""Observation: read, search, create and update, every one through ``policy.measurements``.

No reading is read here before the policy: ``get_observation`` (read) and
``open_readings_by_id`` (search, one audited read of the patient's readings)
hand over only what the caller may see. A device hub (a gateway client)
posts under its account: ``measurements.actions.record_observation`` checks
the reading, then the policy decides (the care team; a professional of an
open act of the patient, for that act, named in ``encounter``) and audits.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Sequence

from django.db.models import Q
from django.utils.translation import gettext as _
from fhir.resources.R4B.observation import Observation as FhirObservation

from maillage.accounts.models import Role
from maillage.directory.models import Professional
from maillage.fhir.created import created, updated
from maillage.fhir.interactions.common import own_patient_id
from maillage.fhir.mapping.observation import ReadingContext, code_of, observation
from maillage.fhir.mapping.observation_input import observation_from_fhir
from maillage.fhir.outcome import FhirError, Issue
from maillage.fhir.result import FhirResult
from maillage.fhir.router import Call, Interaction, Route
from maillage.fhir.search import (
    Match,
    ParamType,
    SearchParam,
    SearchQuery,
    all_of,
    general_params,
    ids_q,
    ordering,
    page,
    period_q,
    reference_id,
    searchset,
    token,
)
from maillage.fhir.validation import load_json, parse
from maillage.fhir.versions import expected_version, stale
from maillage.measurements import actions
from maillage.measurements.codes import (
    CATEGORIES,
    CATEGORY_SYSTEM,
    CODES,
    COMPONENTS,
    COMPONENTS_BY_MDC,
    LOINC,
    MDC,
)
from maillage.measurements.models import Device, Media, Observation, Status
from maillage.policy import measurements as policy
from maillage.policy.gate import PatientNotFound
from maillage.policy.measurements import ReadingNotFound

SORT_FIELDS = {"date": ("effective_at",), "_lastUpdated": ("updated_at",)}
SEARCH_PARAMS = (
    SearchParam(
        "patient",
        ParamType.REFERENCE,
        "The patient, as Patient/id or id; a patient may leave it out to mean herself.",
        single=True,
    ),
    SearchParam("subject", ParamType.REFERENCE, "The patient (the same as patient).", single=True),
    SearchParam(
        "code",
        ParamType.TOKEN,
        "A LOINC code (http://loinc.org|85354-9) or its MDC code (urn:iso:std:iso:11073:10101|"
        "150020), or a code alone.",
    ),
    SearchParam(
        "component-code",
        ParamType.TOKEN,
        "A component's code, LOINC or MDC (a blood pressure's systolic 8480-6 / 150021, "
        "diastolic 8462-4 / 150022, mean 8478-0 / 150023): the panels that hold it.",
    ),
    SearchParam(
        "date",
        ParamType.DATE,
        "When the reading was taken (effectiveDateTime), with prefix eq, ne, lt, le, gt or ge.",
    ),
    SearchParam(
        "encounter",
        ParamType.REFERENCE,
        "The teleconsultation the reading was taken in, as Encounter/id or id; without a "
        "patient, that act's patient.",
    ),
    SearchParam("category", ParamType.TOKEN, "vital-signs, laboratory or exam."),
    SearchParam("status", ParamType.TOKEN, "final, amended or entered-in-error."),
    *general_params(sort=tuple(SORT_FIELDS)),
)
# ReadingRefused's elements, as FHIRPaths of the Observation received.
ELEMENT_PATHS = {
    "code": "Observation.code",
    "value": "Observation.valueQuantity",
    "effective": "Observation.effectiveDateTime",
    "method": "Observation.method",
    "subject": "Observation.subject",
    "encounter": "Observation.encounter",
}


def reading_context(base_url: str, readings: Sequence[Observation | Media]) -> ReadingContext:
    """The performers' Practitioner ids for a page of readings, in one query."""
    users = {r.performer_id for r in readings if r.performer_id is not None}
    return ReadingContext(
        base_url,
        dict(Professional.objects.filter(user_id__in=users).values_list("user_id", "uuid")),
    )


# --- read ------------------------------------------------------------------------


def read(call: Call) -> FhirResult:
    try:
        reading, _opened = policy.get_observation(call.actor, call.resource_id)
    except ReadingNotFound:
        raise FhirError(404) from None
    return FhirResult(observation(reading, reading_context(call.request.base_url, [reading])))


# --- search ----------------------------------------------------------------------


def _code_q(value: str) -> Q:
    wanted = token(value)
    ours = code_of(wanted.system, wanted.code)
    return Q(code=ours) if ours else Q(pk__in=[])


def _component_code_q(value: str) -> Q:
    """The panels holding this component: among the panel codes that have it, those whose
    stored components name it (the mean arterial pressure is optional)."""
    wanted = token(value)
    component = None
    if wanted.system in (None, LOINC):
        component = COMPONENTS.get(wanted.code)
    if component is None and wanted.system in (None, MDC):
        component = COMPONENTS_BY_MDC.get(wanted.code)
    if component is None:
        return Q(pk__in=[])
    panels = [c.loinc for c in CODES.values() if component in getattr(c, "components", ())]
    # The components as stored text ("code": "8478-0"), the same on SQLite and PostgreSQL.
    named = json.dumps({"code": component.loinc})[1:-1]
    return Q(code__in=panels, components__icontains=named)


def _category_q(value: str) -> Q:
    wanted = token(value)
    if wanted.system not in (None, CATEGORY_SYSTEM) or wanted.code not in CATEGORIES:
        return Q(pk__in=[])
    return Q(category=wanted.code)


def _status_q(value: str) -> Q:
    code = token(value).code
    return Q(status=code) if code in Status.values else Q(pk__in=[])


def _encounter_q(value: str) -> Q:
    wanted = reference_id("encounter", value, "Encounter")
    return Q(encounter__uuid=wanted) if wanted else Q(pk__in=[])


def _named_patient(query: SearchQuery) -> str | None:
    """The patient named by ``patient`` or ``subject`` (one parameter under two names)."""
    named = [
        str(found) if (found := reference_id(name, value, "Patient")) is not None else value
        for name in ("patient", "subject")
        if (value := query.first(name)) is not None
    ]
    if len(set(named)) > 1:
        raise FhirError.single(
            400,
            _("patient and subject name two different patients: give one of them."),
            expression="subject",
        )
    return named[0] if named else None


def _searched_patient(call: Call) -> str:
    """The patient whose readings are searched: named, the act's, or the patient herself."""
    query = call.query
    named = _named_patient(query)
    if named is not None:
        return named
    encounters = query.occurrences("encounter")
    if len(encounters) == 1 and len(encounters[0]) == 1:
        act = reference_id("encounter", encounters[0][0], "Encounter")
        patient = policy.patient_of_act(act) if act is not None else None
        # An unknown act names nobody: the policy refuses it like an unknown patient.
        return str(patient) if patient is not None else str(uuid.UUID(int=0))
    own = own_patient_id(call.actor) if call.actor.role == Role.PATIENT else None
    if own is None:
        raise FhirError.single(
            400,
            _("Name the patient (patient=Patient/id) or the act (encounter=Encounter/id)."),
            code="required",
            expression="patient",
        )
    return str(own)


def _filters(query: SearchQuery) -> Q:
    """The search's filters; built before the policy, as a bad value is the client's mistake."""
    return (
        ids_q(query)
        & all_of(query, "code", _code_q)
        & all_of(query, "component-code", _component_code_q)
        & all_of(query, "category", _category_q)
        & all_of(query, "status", _status_q)
        & all_of(query, "encounter", _encounter_q)
        & period_q(query, "date", "effective_at")
        & period_q(query, "_lastUpdated", "updated_at")
    )


def search(call: Call) -> FhirResult:
    query = call.query
    patient_id = _searched_patient(call)
    filters = _filters(query)
    try:
        opened = policy.open_readings_by_id(call.actor, patient_id, detail={"fhir": "Observation"})
    except PatientNotFound:
        raise FhirError.single(
            404,
            _("No such patient, or you may not see the readings of this patient."),
            code="not-found",
            expression="patient",
        ) from None
    rows = (
        opened.observations()
        .select_related("patient")
        .filter(filters)
        .order_by(*ordering(query, SORT_FIELDS, ("-effective_at", "-pk")))
    )
    found, total = page(rows, query)
    ctx = reading_context(call.request.base_url, found)
    return searchset(call, [Match(observation(r, ctx)) for r in found], total)


# --- create and update -------------------------------------------------------------


def _device(device_id: uuid.UUID | None) -> Device | None:
    if device_id is None:
        return None
    found = Device.objects.filter(uuid=device_id).first()
    if found is None:
        raise FhirError.single(
            422,
            _("No such device: create it first (POST Device)."),
            code="not-found",
            expression="Observation.device",
        )
    return found


def refused(error: actions.ReadingRefused) -> FhirError:
    """A reading the platform cannot hold: 422, at the element at fault."""
    element = error.element
    path = ELEMENT_PATHS.get(element.split("[")[0], "")
    if element.startswith("component"):
        path = f"Observation.{element}"
    code = "code-invalid" if element == "code" else "business-rule"
    return FhirError(422, [Issue(error.message, code=code, expression=(path,) if path else ())])


def _not_found() -> FhirError:
    return FhirError.single(
        404,
        _("No such patient, or you may not record readings for this patient (or this act)."),
        code="not-found",
        expression="Observation.subject",
    )


def create(call: Call) -> FhirResult:
    user = call.actor
    data = load_json(call.request.body)
    received = observation_from_fhir(data, parse(FhirObservation, data))
    if received.status == Status.ENTERED_IN_ERROR:
        raise FhirError.single(
            400, _("A new reading cannot be entered in error."), expression="Observation.status"
        )
    new = dataclasses.replace(received.new, device=_device(received.device_id))
    try:
        actions.check_reading(new)
        patient = policy.patient_for_recording(user, received.patient_id)
        reading = actions.record_observation(user, patient, new)
    except actions.ReadingRefused as error:
        raise refused(error) from None
    except PatientNotFound:
        raise _not_found() from None
    resource = observation(reading, reading_context(call.request.base_url, [reading]))
    location = f"{call.request.base_url}/Observation/{reading.uuid}"
    return created(call, resource, received.warnings, location)


def update(call: Call) -> FhirResult:
    data = load_json(call.request.body)
    if data.get("id") != call.resource_id:
        raise FhirError.single(
            400, _("The resource's id must be the id in the URL."), expression="Observation.id"
        )
    received = observation_from_fhir(data, parse(FhirObservation, data))
    new = dataclasses.replace(received.new, device=_device(received.device_id))
    try:
        reading = actions.correct_observation(
            call.actor,
            call.resource_id,
            new,
            status=received.status,
            expected_version=expected_version(call),
            patient_uuid=received.patient_id,
        )
    except ReadingNotFound:
        raise FhirError(404) from None
    except actions.StaleVersion as error:
        raise stale(error.current) from None
    except actions.ReadingRefused as error:
        raise refused(error) from None
    resource = observation(reading, reading_context(call.request.base_url, [reading]))
    return updated(call, resource, received.warnings)


ROUTES = (
    Route(
        Interaction.READ,
        read,
        "Observation",
        documentation=(
            "Through the policy: the patient, the record's readers, and the professionals of an "
            "act for that act's readings; a refusal answers 404 and is audited."
        ),
    ),
    Route(
        Interaction.SEARCH_TYPE,
        search,
        "Observation",
        SEARCH_PARAMS,
        documentation="One patient's readings at a time; opening them is audited once.",
    ),
    Route(
        Interaction.CREATE,
        create,
        "Observation",
        documentation=(
            "A reading taken by the caller (the performer): LOINC or MDC code, UCUM unit, a "
            "value a body can show (else 422). A device hub posts as its account: a professional "
            "of the care team, or of the open act named in encounter."
        ),
    ),
    Route(
        Interaction.UPDATE,
        update,
        "Observation",
        documentation=(
            "Its performer corrects a reading (amended) or marks it entered-in-error; the "
            "patient, the act and the code stay. If-Match is honoured."
        ),
    ),
)
