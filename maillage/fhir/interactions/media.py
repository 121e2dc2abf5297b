"""Media: photos, sounds and ECG tracings of a patient, through ``policy.measurements``.

Read and search as readings are (``get_media``, ``open_readings_by_id``: one
audited read each); the file itself is ``Binary/<file>``, served through the
same policy. Create takes the file inline (``content.data``, base64): it is
checked and sealed by the files' storage, as a document's file is.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _
from fhir.resources.R4B.media import Media as FhirMedia

from maillage.fhir.created import created
from maillage.fhir.interactions.observation import reading_context
from maillage.fhir.mapping.observation import MEDIA_KIND_SYSTEM, media
from maillage.fhir.mapping.observation_input import media_from_fhir
from maillage.fhir.outcome import FhirError, Issue
from maillage.fhir.result import FhirResult
from maillage.fhir.router import Call, Interaction, Route
from maillage.fhir.search import (
    Match,
    ParamType,
    SearchParam,
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
from maillage.files.storage import Upload
from maillage.measurements import actions
from maillage.measurements.models import Device, Media, MediaKind
from maillage.policy import measurements as policy
from maillage.policy.gate import PatientNotFound
from maillage.policy.measurements import ReadingNotFound

SORT_FIELDS = {"created": ("taken_at",), "_lastUpdated": ("updated_at",)}
SEARCH_PARAMS = (
    SearchParam("patient", ParamType.REFERENCE, "The patient, as Patient/id or id.", single=True),
    SearchParam(
        "encounter", ParamType.REFERENCE, "The teleconsultation it was taken in (Encounter/id)."
    ),
    SearchParam("modality", ParamType.TOKEN, f"photo, sound, ecg or video ({MEDIA_KIND_SYSTEM})."),
    SearchParam("created", ParamType.DATE, "When it was taken."),
    *general_params(sort=tuple(SORT_FIELDS)),
)


def _resources(call: Call, items: list[Media]) -> list[Match]:
    ctx = reading_context(call.request.base_url, items)
    return [Match(media(m, ctx)) for m in items]


def read(call: Call) -> FhirResult:
    try:
        medium, _opened = policy.get_media(call.actor, call.resource_id)
    except ReadingNotFound:
        raise FhirError(404) from None
    return FhirResult(_resources(call, [medium])[0].resource)


def _encounter_q(value: str) -> Q:
    wanted = reference_id("encounter", value, "Encounter")
    return Q(encounter__uuid=wanted) if wanted else Q(pk__in=[])


def _modality_q(value: str) -> Q:
    wanted = token(value)
    if wanted.system not in (None, MEDIA_KIND_SYSTEM) or wanted.code not in MediaKind.values:
        return Q(pk__in=[])
    return Q(kind=wanted.code)


def search(call: Call) -> FhirResult:
    query = call.query
    value = query.first("patient")
    if value is None:
        raise FhirError.single(
            400, _("Name the patient: patient=Patient/id."), code="required", expression="patient"
        )
    found_id = reference_id("patient", value, "Patient")
    filters = (
        ids_q(query)
        & all_of(query, "encounter", _encounter_q)
        & all_of(query, "modality", _modality_q)
        & period_q(query, "created", "taken_at")
        & period_q(query, "_lastUpdated", "updated_at")
    )
    try:
        opened = policy.open_readings_by_id(
            call.actor, found_id if found_id is not None else value, detail={"fhir": "Media"}
        )
    except PatientNotFound:
        raise FhirError.single(
            404,
            _("No such patient, or you may not see the readings of this patient."),
            code="not-found",
            expression="patient",
        ) from None
    rows = (
        opened.media()
        .select_related("patient")
        .filter(filters)
        .order_by(*ordering(query, SORT_FIELDS, ("-taken_at", "-pk")))
    )
    found, total = page(rows, query)
    return searchset(call, _resources(call, found), total)


def create(call: Call) -> FhirResult:
    user = call.actor
    data = load_json(call.request.body)
    received = media_from_fhir(data, parse(FhirMedia, data))
    device = None
    if received.device_id is not None:
        device = Device.objects.filter(uuid=received.device_id).first()
        if device is None:
            raise FhirError.single(
                422,
                _("No such device: create it first (POST Device)."),
                "not-found",
                "Media.device",
            )
    new = actions.NewMedia(
        kind=received.kind,
        upload=Upload(name=received.title or f"{received.kind}", data=received.data),
        taken_at=received.taken_at,
        title=received.title,
        encounter=received.encounter_id,
        device=device,
    )
    try:
        patient = policy.patient_for_recording(user, received.patient_id)
        medium = actions.record_media(user, patient, new)
    except actions.ReadingRefused as error:
        path = "Media.content" if error.element == "content" else "Media"
        raise FhirError(
            422, [Issue(error.message, code="business-rule", expression=(path,))]
        ) from None
    except PatientNotFound:
        raise FhirError.single(
            404,
            _("No such patient, or you may not record readings for this patient (or this act)."),
            code="not-found",
            expression="Media.subject",
        ) from None
    resource = _resources(call, [medium])[0].resource
    location = f"{call.request.base_url}/Media/{medium.uuid}"
    return created(call, resource, received.warnings, location)


ROUTES = (
    Route(
        Interaction.READ,
        read,
        "Media",
        documentation="Through the policy, as readings; the file is content.url (Binary).",
    ),
    Route(
        Interaction.SEARCH_TYPE,
        search,
        "Media",
        SEARCH_PARAMS,
        documentation="One patient's media at a time; opening them is audited once.",
    ),
    Route(
        Interaction.CREATE,
        create,
        "Media",
        documentation=(
            "A photo, sound or ECG tracing with its file inline (content.data, base64), checked "
            "and sealed; by the care team, or a professional of the open act named in encounter."
        ),
    ),
)
