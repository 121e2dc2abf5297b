"""A received Observation, Device or Media, read into what the measurements' actions take.

What cannot be a reference of ours, or is missing, is a 400 (every problem at
once); what the platform does not measure (an unknown code, a unit not
allowed, a value no body shows) is the actions' ``ReadingRefused``, a 422.
Elements received and not kept are named as warnings (``created.not_kept``):
the performer is always the caller, and the doctor's mark is made by the
doctor, not sent with a reading.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from fhir.resources.R4B.device import Device as FhirDevice
from fhir.resources.R4B.media import Media as FhirMedia
from fhir.resources.R4B.observation import Observation as FhirObservation

from maillage.fhir.created import not_kept
from maillage.fhir.mapping.observation import (
    DEVICE_KIND_SYSTEM,
    EUI64_SYSTEM,
    MEDIA_KIND_SYSTEM,
    METHOD_SYSTEM,
    code_of,
)
from maillage.fhir.outcome import FhirError, Issue
from maillage.fhir.result import Json
from maillage.fhir.systems import UCUM
from maillage.measurements.actions import NewDevice, NewReading, Quantity
from maillage.measurements.codes import COMPONENTS, COMPONENTS_BY_MDC, MDC
from maillage.measurements.models import DeviceKind, MediaKind, Method, Status

_REFERENCE = re.compile(r"(?:^|/)(?P<type>[A-Za-z]+)/(?P<id>[0-9A-Fa-f-]{32,36})$")
_WHITESPACE = re.compile(r"\s+")
# What a created Observation keeps; anything else is named as not kept.
OBSERVATION_KEPT = frozenset(
    {
        "resourceType",
        "id",
        "meta",
        "status",
        "category",
        "code",
        "subject",
        "encounter",
        "effectiveDateTime",
        "effectiveInstant",
        "valueQuantity",
        "component",
        "device",
        "method",
        "note",
    }
)
MEDIA_KEPT = frozenset(
    {
        "resourceType",
        "id",
        "meta",
        "status",
        "type",
        "modality",
        "subject",
        "encounter",
        "createdDateTime",
        "device",
        "content",
    }
)
DEVICE_KEPT = frozenset(
    {
        "resourceType",
        "id",
        "meta",
        "status",
        "type",
        "identifier",
        "manufacturer",
        "modelNumber",
        "deviceName",
        "serialNumber",
    }
)


@dataclass
class _Reader:
    resource_type: str
    issues: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    def problem(self, message: str, path: str, code: str = "invalid") -> None:
        self.issues.append(Issue(message, code=code, expression=(f"{self.resource_type}.{path}",)))

    def dropped(self, data: Json, kept: Iterable[str]) -> None:
        self.warnings += [
            not_kept(f"{self.resource_type}.{name}") for name in data if name not in kept
        ]

    def done(self) -> None:
        if self.issues:
            raise FhirError(400, self.issues)


def reference_to(reader: _Reader, value: Any, resource_type: str, path: str) -> uuid.UUID | None:
    """The id of a reference to one of our resources of ``resource_type``; a problem otherwise."""
    if value is None:
        return None
    match = _REFERENCE.search(getattr(value, "reference", None) or "")
    if match is not None and match["type"] == resource_type:
        try:
            return uuid.UUID(match["id"])
        except ValueError:
            pass
    reader.problem(
        _("%(path)s must be a reference to a %(type)s (%(type)s/id).")
        % {"path": path, "type": resource_type},
        path,
    )
    return None


def _instant(reader: _Reader, value: Any, path: str) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        reader.problem(_("Give the time of the reading, not only its day."), path)
        return None
    reader.problem(_("The time of the reading is required."), path, "required")
    return None


@dataclass(frozen=True)
class ObservationInput:
    patient_id: uuid.UUID | None
    device_id: uuid.UUID | None
    new: NewReading
    status: str
    warnings: list[Issue]


def _code(resource: FhirObservation) -> str:
    """Our LOINC code among the codings (LOINC or MDC); the first coding's code if none is ours."""
    codings = resource.code.coding or []
    for item in codings:
        ours = code_of(item.system, item.code or "")
        if ours is not None:
            return ours
    return next((item.code for item in codings if item.code), "") or ""


def _component_code(codings: list[Any]) -> str:
    for item in codings:
        code = item.code or ""
        if item.system in (None, "http://loinc.org") and code in COMPONENTS:
            return code
        if item.system in (None, MDC) and code in COMPONENTS_BY_MDC:
            return COMPONENTS_BY_MDC[code].loinc
    return next((item.code for item in codings if item.code), "") or ""


def _quantity(reader: _Reader, value: Any, path: str) -> tuple[Decimal | None, str]:
    if value is None:
        return None, ""
    if value.system not in (None, UCUM):
        reader.problem(_("Units are UCUM codes (system http://unitsofmeasure.org)."), path)
    unit = value.code or value.unit or ""
    return value.value, unit


def _method(resource: FhirObservation, device: uuid.UUID | None) -> str:
    for item in (resource.method.coding or []) if resource.method else []:
        if item.system == METHOD_SYSTEM and item.code in Method.values:
            return str(item.code)
    return Method.BLUETOOTH if device is not None else Method.MANUAL


def observation_from_fhir(data: Json, resource: FhirObservation) -> ObservationInput:
    reader = _Reader("Observation")
    reader.dropped(data, OBSERVATION_KEPT)
    status = resource.status
    if status not in (Status.FINAL, Status.AMENDED, Status.ENTERED_IN_ERROR):
        reader.problem(
            _("The status of a reading is final, amended or entered-in-error."), "status"
        )
    if resource.subject is None:
        reader.problem(_("The patient is required: subject, as Patient/id."), "subject", "required")
    patient_id = reference_to(reader, resource.subject, "Patient", "subject")
    encounter_id = reference_to(reader, resource.encounter, "Encounter", "encounter")
    device_id = reference_to(reader, resource.device, "Device", "device")
    effective = resource.effectiveDateTime or resource.effectiveInstant
    effective_at = _instant(reader, effective, "effectiveDateTime")
    value, unit = _quantity(reader, resource.valueQuantity, "valueQuantity")
    components = []
    for index, part in enumerate(resource.component or []):
        path = f"component[{index}].valueQuantity"
        if part.valueQuantity is None and part.dataAbsentReason is not None:
            # A device's "no value" (NaN, NRes): an optional component left out;
            # a required one missing is the reading's problem (422).
            reader.warnings.append(not_kept(f"Observation.component[{index}]"))
            continue
        if part.valueQuantity is None:
            reader.problem(_("Each component has a valueQuantity."), path, "required")
            continue
        number, part_unit = _quantity(reader, part.valueQuantity, path)
        if number is None:
            reader.problem(_("Each component has a value."), f"{path}.value", "required")
            continue
        components.append(Quantity(number, part_unit, _component_code(part.code.coding or [])))
    reader.done()
    assert effective_at is not None
    new = NewReading(
        code=_code(resource),
        effective_at=effective_at,
        method=_method(resource, device_id),
        value=value,
        unit=unit,
        components=tuple(components),
        encounter=encounter_id,
        note="\n".join(n.text for n in resource.note or [] if n.text),
    )
    return ObservationInput(patient_id, device_id, new, str(status), reader.warnings)


# --- Device ------------------------------------------------------------------------


def device_from_fhir(data: Json, resource: FhirDevice) -> tuple[NewDevice, list[Issue]]:
    reader = _Reader("Device")
    reader.dropped(data, DEVICE_KEPT)
    kind = DeviceKind.OTHER
    for item in (resource.type.coding or []) if resource.type else []:
        if item.system == DEVICE_KIND_SYSTEM and item.code in DeviceKind.values:
            kind = DeviceKind(item.code)
    system_id = ""
    for index, identifier in enumerate(resource.identifier or []):
        if identifier.system == EUI64_SYSTEM and identifier.value:
            system_id = identifier.value
        else:
            reader.warnings.append(not_kept(f"Device.identifier[{index}]"))
    model = resource.modelNumber or next((n.name for n in resource.deviceName or [] if n.name), "")
    reader.done()
    new = NewDevice(
        kind=kind,
        manufacturer=resource.manufacturer or "",
        model_number=model or "",
        serial_number=resource.serialNumber or "",
        system_id=system_id,
    )
    return new, reader.warnings


# --- Media -------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaInput:
    patient_id: uuid.UUID | None
    encounter_id: uuid.UUID | None
    device_id: uuid.UUID | None
    kind: str
    taken_at: dt.datetime
    title: str
    data: bytes
    warnings: list[Issue]


_KIND_OF_TYPE = {"image": MediaKind.PHOTO, "audio": MediaKind.SOUND, "video": MediaKind.VIDEO}


def _media_kind(resource: FhirMedia) -> str:
    for item in (resource.modality.coding or []) if resource.modality else []:
        if item.system == MEDIA_KIND_SYSTEM and item.code in MediaKind.values:
            return str(item.code)
    for item in (resource.type.coding or []) if resource.type else []:
        if item.code in _KIND_OF_TYPE:
            return _KIND_OF_TYPE[item.code]
    content_type = resource.content.contentType or ""
    return _KIND_OF_TYPE.get(content_type.split("/")[0], MediaKind.ECG)


def inline_media_data(data: Json) -> bytes | None:
    """``content.data`` strictly decoded (the model decodes leniently); 413 or 400 if wrong."""
    content = data.get("content")
    value = content.get("data") if isinstance(content, dict) else None
    if not isinstance(value, str):
        return None
    path = ("Media.content.data",)
    encoded = _WHITESPACE.sub("", value)
    if len(encoded) // 4 * 3 - encoded[-2:].count("=") > settings.MAILLAGE_MAX_UPLOAD_BYTES:
        raise FhirError(
            413, [Issue(_("The file is too large."), code="too-costly", expression=path)]
        )
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise FhirError(
            400, [Issue(_("The attachment data is not valid base64."), expression=path)]
        ) from None


def media_from_fhir(data: Json, resource: FhirMedia) -> MediaInput:
    reader = _Reader("Media")
    reader.dropped(data, MEDIA_KEPT)
    if resource.subject is None:
        reader.problem(_("The patient is required: subject, as Patient/id."), "subject", "required")
    patient_id = reference_to(reader, resource.subject, "Patient", "subject")
    encounter_id = reference_to(reader, resource.encounter, "Encounter", "encounter")
    device_id = reference_to(reader, resource.device, "Device", "device")
    raw = inline_media_data(data)
    if raw is None:
        reader.problem(
            _("Send the file itself in content.data (base64): links are not fetched."),
            "content.data",
            "required",
        )
    taken = resource.createdDateTime
    taken_at = taken if isinstance(taken, dt.datetime) else timezone.now()
    reader.done()
    assert raw is not None
    return MediaInput(
        patient_id,
        encounter_id,
        device_id,
        _media_kind(resource),
        taken_at,
        resource.content.title or "",
        raw,
        reader.warnings,
    )
