"""Readings, devices and media to FHIR (STANDARDS.md; HL7 Personal Health Device IG).

- Observation: ``code`` the LOINC code with the MDC code beside it (and
  59408-5 beside SpO2's 2708-6), ``category`` vital-signs or laboratory,
  ``valueQuantity`` in UCUM or, for blood pressure, ``component`` systolic,
  diastolic (and mean); ``performer`` the professional as a Practitioner,
  ``encounter`` the teleconsultation, ``device`` the Device, ``method`` how it
  came (our code: bluetooth, manual, import); the doctor's mark in the
  extension ``significant``; ``meta.versionId`` the reading's version.
- Device: the system id (EUI-64) as an identifier, manufacturer, model,
  serial number, our type of device.
- Media: a photo, sound or ECG tracing; ``content.url`` is ``Binary/<file>``
  (read through the policy), with the file's SHA-256 as for documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from fhir.resources.R4B.device import Device as FhirDevice
from fhir.resources.R4B.media import Media as FhirMedia
from fhir.resources.R4B.observation import Observation as FhirObservation

from maillage.fhir.mapping.common import coding, meta, reference
from maillage.fhir.mapping.document_reference import attachment
from maillage.fhir.result import Json
from maillage.fhir.systems import LOINC, MAILLAGE_FHIR, UCUM
from maillage.fhir.validation import emit
from maillage.measurements.codes import BY_MDC, CATEGORY_SYSTEM, CODES, COMPONENTS, MDC
from maillage.measurements.models import (
    Device,
    DeviceKind,
    Media,
    MediaKind,
    Method,
    Observation,
    Status,
)

METHOD_SYSTEM = f"{MAILLAGE_FHIR}/CodeSystem/measurement-method"
DEVICE_KIND_SYSTEM = f"{MAILLAGE_FHIR}/CodeSystem/device-kind"
MEDIA_KIND_SYSTEM = f"{MAILLAGE_FHIR}/CodeSystem/media-kind"
SIGNIFICANT_EXTENSION = f"{MAILLAGE_FHIR}/StructureDefinition/significant"
# The PHD IG's identifier type for a device's IEEE EUI-64 system id.
DEVICE_ID_TYPE_SYSTEM = "http://hl7.org/fhir/uv/phd/CodeSystem/ContinuaDeviceIdentifiers"
SYSTEM_ID_TYPE = "SYSID"
EUI64_SYSTEM = "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680"
MEDIA_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/media-type"
CATEGORY_DISPLAY = {"vital-signs": "Vital Signs", "laboratory": "Laboratory", "exam": "Exam"}
MEDIA_TYPE_OF = {
    MediaKind.PHOTO: ("image", "Image"),
    MediaKind.SOUND: ("audio", "Audio"),
    MediaKind.VIDEO: ("video", "Video"),
    MediaKind.ECG: ("image", "Image"),
}


@dataclass(frozen=True)
class ReadingContext:
    """What every resource of a page needs: the base URL and the performers' Practitioner ids."""

    base_url: str
    practitioners: Mapping[int, object] = field(default_factory=dict)


def _number(value: Decimal | str) -> Decimal:
    exact = Decimal(value).normalize()
    # normalize() writes 100 as 1E+2: FHIR's decimal wants plain digits.
    return exact.quantize(Decimal(1)) if exact == exact.to_integral() else exact


def quantity(value: Decimal | str, unit: str) -> Json:
    return {"value": _number(value), "unit": unit, "system": UCUM, "code": unit}


def code_concept(loinc: str) -> Json:
    """LOINC first, then the MDC code and any LOINC code sent beside."""
    found = CODES.get(loinc) or COMPONENTS.get(loinc)
    if found is None:
        return {"coding": [coding(LOINC, loinc)]}
    codings = [coding(LOINC, found.loinc, str(found.label))]
    codings += [coding(LOINC, extra) for extra in getattr(found, "also", ())]
    if found.mdc:
        codings.append(coding(MDC, found.mdc))
    return {"coding": codings, "text": str(found.label)}


def _performer(user_id: int | None, label: str, ctx: ReadingContext) -> list[Json]:
    if user_id is None:
        return []
    practitioner = ctx.practitioners.get(user_id)
    if practitioner is None:
        return [{"display": label}] if label else []
    return [reference("Practitioner", practitioner, label)]


def observation(reading: Observation, ctx: ReadingContext) -> Json:
    data: Json = {
        "resourceType": "Observation",
        "id": str(reading.uuid),
        "meta": meta(reading.updated_at, reading.version),
        "status": reading.status,
        "category": [
            {
                "coding": [
                    coding(
                        CATEGORY_SYSTEM,
                        reading.category,
                        CATEGORY_DISPLAY.get(reading.category, ""),
                    )
                ]
            }
        ],
        "code": code_concept(reading.code),
        "subject": reference("Patient", reading.patient.uuid),
        "effectiveDateTime": reading.effective_at.isoformat(),
        "issued": reading.issued_at.isoformat(),
        "method": {
            "coding": [coding(METHOD_SYSTEM, reading.method)],
            "text": str(Method(reading.method).label),
        },
        "extension": [{"url": SIGNIFICANT_EXTENSION, "valueBoolean": reading.significant}],
    }
    performer = _performer(reading.performer_id, reading.performer_label, ctx)
    if performer:
        data["performer"] = performer
    if reading.encounter is not None:
        data["encounter"] = reference("Encounter", reading.encounter.uuid)
    if reading.device is not None:
        data["device"] = reference("Device", reading.device.uuid, str(reading.device))
    if reading.value is not None:
        data["valueQuantity"] = quantity(reading.value, reading.unit)
    if reading.components:
        data["component"] = [
            {"code": code_concept(c["code"]), "valueQuantity": quantity(c["value"], c["unit"])}
            for c in reading.components
        ]
    if reading.note:
        data["note"] = [{"text": reading.note}]
    return emit(FhirObservation, data)


def device(item: Device) -> Json:
    data: Json = {
        "resourceType": "Device",
        "id": str(item.uuid),
        "meta": meta(item.created_at),
        "status": "active",
        "type": {
            "coding": [coding(DEVICE_KIND_SYSTEM, item.kind)],
            "text": str(DeviceKind(item.kind).label),
        },
    }
    if item.system_id:
        data["identifier"] = [
            {
                "type": {"coding": [coding(DEVICE_ID_TYPE_SYSTEM, SYSTEM_ID_TYPE)]},
                "system": EUI64_SYSTEM,
                "value": item.system_id,
            }
        ]
    if item.manufacturer:
        data["manufacturer"] = item.manufacturer
    if item.model_number:
        data["modelNumber"] = item.model_number
        data["deviceName"] = [{"name": item.model_number, "type": "model-name"}]
    if item.serial_number:
        data["serialNumber"] = item.serial_number
    return emit(FhirDevice, data)


MEDIA_STATUS = {Status.FINAL: "completed", Status.AMENDED: "completed"}


def media(item: Media, ctx: ReadingContext) -> Json:
    media_type, display = MEDIA_TYPE_OF[MediaKind(item.kind)]
    content = attachment(item.file, ctx.base_url)
    if item.title:
        content["title"] = item.title
    data: Json = {
        "resourceType": "Media",
        "id": str(item.uuid),
        "meta": meta(item.updated_at, item.version),
        "status": MEDIA_STATUS.get(Status(item.status), "entered-in-error"),
        "type": {"coding": [coding(MEDIA_TYPE_SYSTEM, media_type, display)]},
        "modality": {
            "coding": [coding(MEDIA_KIND_SYSTEM, item.kind)],
            "text": str(MediaKind(item.kind).label),
        },
        "subject": reference("Patient", item.patient.uuid),
        "createdDateTime": item.taken_at.isoformat(),
        "issued": item.created_at.isoformat(),
        "content": content,
        "extension": [{"url": SIGNIFICANT_EXTENSION, "valueBoolean": item.significant}],
    }
    operator = _performer(item.performer_id, item.performer_label, ctx)
    if operator:
        data["operator"] = operator[0]
    if item.encounter is not None:
        data["encounter"] = reference("Encounter", item.encounter.uuid)
    if item.device is not None:
        data["device"] = reference("Device", item.device.uuid, str(item.device))
    return emit(FhirMedia, data)


def code_of(system: str | None, code: str) -> str | None:
    """Our LOINC code for a coding a client sends (LOINC or MDC), None if not ours."""
    if system in (None, LOINC) and code in CODES:
        return code
    if system in (None, MDC) and code in BY_MDC:
        return BY_MDC[code].loinc
    return None
