"""The only writers of the assisted act: who assists, what the doctor asks, the readings sent.

Each asks the one policy: the act through ``policy.teleconsult`` (a Change
closed once: one audit entry), a reading through ``measurements.actions``
(``policy.measurements``: one entry per Observation). A reading from a
device is parsed again here from the device's own bytes (``parse_sent``):
what the browser parsed is only shown on its page, never stored.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.utils import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from maillage.assisted.asks import BY_KIND
from maillage.assisted.models import (
    CODES_OF_PROFESSION,
    PLACE_KINDS,
    ActCode,
    Assistance,
    MeasurementRequest,
)
from maillage.directory.models import StructureKind
from maillage.files import storage
from maillage.files.storage import Upload
from maillage.lib import bluetooth, manual_entry
from maillage.lib.bluetooth import Measure
from maillage.lib.filetypes import HL7_AECG, JPEG, MP3, PDF, PNG, WAV, RejectedFile, sniff
from maillage.measurements import actions as measurements
from maillage.measurements.codes import BLOOD_PRESSURE, CODES
from maillage.measurements.models import DeviceKind, Media, MediaKind, Method, Observation
from maillage.policy.teleconsult import Change, Seat
from maillage.teleconsult.actions import MAX_PARTICIPANTS, RoomRuleBroken
from maillage.teleconsult.models import Participant, ParticipantRole

if TYPE_CHECKING:
    from maillage.directory.models import Professional, Structure

# The device's clock has no zone: the acts of the territory are held in this one.
PLACE_ZONE = zoneinfo.ZoneInfo("Europe/Paris")

# bluetooth.js's device kinds -> the record's.
DEVICE_KINDS = {
    "blood_pressure": DeviceKind.BLOOD_PRESSURE,
    "thermometer": DeviceKind.THERMOMETER,
    "pulse_oximeter": DeviceKind.PULSE_OXIMETER,
    "weight_scale": DeviceKind.WEIGHT_SCALE,
    "glucose": DeviceKind.GLUCOSE_METER,
}
BY_CHARACTERISTIC = {
    bluetooth.BLOOD_PRESSURE_MEASUREMENT: DeviceKind.BLOOD_PRESSURE,
    bluetooth.TEMPERATURE_MEASUREMENT: DeviceKind.THERMOMETER,
    bluetooth.PLX_SPOT_CHECK_MEASUREMENT: DeviceKind.PULSE_OXIMETER,
    bluetooth.PLX_CONTINUOUS_MEASUREMENT: DeviceKind.PULSE_OXIMETER,
    bluetooth.WEIGHT_MEASUREMENT: DeviceKind.WEIGHT_SCALE,
    bluetooth.GLUCOSE_MEASUREMENT: DeviceKind.GLUCOSE_METER,
}
BLOOD_PRESSURE_PARTS = (Measure.SYSTOLIC, Measure.DIASTOLIC, Measure.MEAN_ARTERIAL)


class ReadingRefused(ValueError):
    """What the assistant sent cannot be recorded; ``message`` is for her, in French."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- Who assists --------------------------------------------------------------------------------


def add_assistant(
    seat: Seat,
    change: Change,
    professional: Professional,
    act_code: str,
    place: Structure | None = None,
) -> Participant:
    """The doctor adds the nurse or pharmacist beside the patient, with her account."""
    allowed = CODES_OF_PROFESSION.get(professional.profession, frozenset())
    if professional.user_id is None:
        change.failed("no_account")
        raise RoomRuleBroken(_("This professional has no account on the platform."))
    if act_code not in ActCode.values or act_code not in allowed:
        change.failed("bad_act_code", act_code=act_code[:12])
        raise RoomRuleBroken(_("This act code is not one this professional bills."))
    if place is not None and place.kind not in PLACE_KINDS:
        change.failed("bad_place")
        raise RoomRuleBroken(_("An assisted teleconsultation is not held at this kind of place."))
    if not seat.consultation.is_open:
        change.failed("closed")
        raise RoomRuleBroken(_("This teleconsultation is over."))
    try:
        with transaction.atomic():
            if (
                Participant.objects.filter(consultation=seat.consultation).count()
                >= MAX_PARTICIPANTS
            ):
                raise RoomRuleBroken(_("A teleconsultation takes at most four people."))
            participant = Participant.objects.create(
                consultation=seat.consultation,
                user_id=professional.user_id,
                display_name=professional.display_name[:150],
                role=ParticipantRole.ASSISTANT,
            )
            Assistance.objects.create(
                participant=participant,
                professional=professional,
                act_code=act_code,
                place=place,
            )
            change.done(assistant=str(participant.uuid), act_code=act_code)
    except IntegrityError:
        change.failed("already_participant")
        raise RoomRuleBroken(_("This professional already takes part in the act.")) from None
    except RoomRuleBroken:
        change.failed("full")
        raise
    return participant


def add_assistant_by_rpps(seat: Seat, change: Change, rpps: str, act_code: str) -> Participant:
    """The doctor names the assistant by her RPPS number; her place follows from her practice."""
    from maillage.directory.models import Professional

    professional = (
        Professional.objects.filter(rpps=rpps, active=True).prefetch_related("structures").first()
    )
    if professional is None:
        change.failed("unknown_professional")
        raise RoomRuleBroken(_("No active professional has this RPPS number."))
    return add_assistant(seat, change, professional, act_code, place_for(professional, act_code))


# --- What the doctor asks -----------------------------------------------------------------------


def ask(seat: Seat, change: Change, kind: str) -> MeasurementRequest:
    """The doctor asks for a measurement from a button of the room."""
    if kind not in BY_KIND:
        change.failed("bad_kind")
        raise RoomRuleBroken(_("Unknown measurement."))
    with transaction.atomic():
        request = MeasurementRequest.objects.create(
            consultation=seat.consultation,
            kind=kind,
            asked_by=seat.participant,
            asked_at=timezone.now(),
        )
        change.done(asked=kind)
    return request


# --- The readings the assistant sends ---------------------------------------------------------


@dataclass
class Sent:
    """The observations stored for one reading sent, and a warning to check the values."""

    observations: list[Observation]
    warnings: list[str] = field(default_factory=list)


def _loinc(measure: Measure) -> str | None:
    loinc = bluetooth.CODES[measure].loinc
    return loinc if loinc is not None and loinc in CODES else None


def _quantity(quantity: bluetooth.Quantity) -> measurements.Quantity | None:
    stored = quantity.stored()
    if stored.value is None:
        return None
    return measurements.Quantity(
        stored.value, stored.unit, bluetooth.CODES[quantity.measure].loinc or ""
    )


def _new_readings(
    reading: bluetooth.Reading, when: dt.datetime, act: object, method: str, device: Any
) -> tuple[list[measurements.NewReading], list[str]]:
    """The reading as the record's Observations: the pressure as one panel, the rest each alone."""
    news: list[measurements.NewReading] = []
    warnings: list[str] = []
    common = {"effective_at": when, "encounter": act, "method": method, "device": device}
    quantities = list(reading.quantities())
    if isinstance(reading, bluetooth.BloodPressureReading):
        parts = [_quantity(q) for q in (reading.systolic, reading.diastolic, reading.mean_arterial)]
        if parts[0] is None or parts[1] is None:
            raise ReadingRefused(_("The monitor sent no value for the pressures: measure again."))
        if parts[2] is None:
            warnings.append(_("The monitor gave no mean arterial pressure."))
        components = tuple(p for p in parts if p is not None)
        news.append(
            measurements.NewReading(code=BLOOD_PRESSURE.loinc, components=components, **common)
        )
        quantities = [reading.pulse_rate] if reading.pulse_rate else []
    for quantity in quantities:
        loinc = _loinc(quantity.measure)
        stored = quantity.stored()
        if loinc is None:
            continue
        if stored.value is None:
            warnings.append(_("The device gave no value for one of its measures."))
            continue
        news.append(
            measurements.NewReading(code=loinc, value=stored.value, unit=stored.unit, **common)
        )
    if not news:
        raise ReadingRefused(_("The device sent no value to record: measure again."))
    return news, warnings


def _record(seat: Seat, news: list[measurements.NewReading]) -> list[Observation]:
    user = seat.user
    assert user is not None  # policy.seat_for_reading: the assistant has an account
    stored: list[Observation] = []
    try:
        with transaction.atomic():
            for new in news:
                stored.append(measurements.record_observation(user, seat.patient, new))
    except measurements.ReadingRefused as error:
        raise ReadingRefused(error.message) from None
    return stored


def _text(value: object, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def send_device_reading(seat: Seat, data: dict[str, Any]) -> Sent:
    """A notification of a Bluetooth device: its bytes parsed again, the device registered."""
    try:
        reading = bluetooth.parse_sent(
            data.get("characteristic", ""), _text(data.get("bytes"), 1100)
        )
    except bluetooth.MalformedPacket:
        raise ReadingRefused(
            _("The device's message could not be read: measure again or enter the value.")
        ) from None
    device_info = data.get("device") if isinstance(data.get("device"), dict) else {}
    assert isinstance(device_info, dict)
    kind = BY_CHARACTERISTIC.get(bluetooth.characteristic_number(data.get("characteristic", "")))
    user = seat.user
    assert user is not None
    try:
        device, _created = measurements.register_device(
            user,
            measurements.NewDevice(
                kind=kind or DeviceKind.OTHER,
                manufacturer=_text(device_info.get("manufacturer"), 100),
                model_number=_text(device_info.get("model"), 100),
                system_id=_text(device_info.get("systemId"), 40),
            ),
        )
    except measurements.ReadingRefused as error:
        raise ReadingRefused(error.message) from None
    received = timezone.now()
    when = bluetooth.effective_time(reading, tz=PLACE_ZONE, received=received) or received
    news, warnings = _new_readings(reading, when, seat.consultation.uuid, Method.BLUETOOTH, device)
    return Sent(_record(seat, news), warnings)


def send_manual_reading(seat: Seat, data: dict[str, Any]) -> Sent:
    """A value typed by the assistant: unit and range checked (``manual_entry``)."""
    ask = BY_KIND.get(_text(data.get("kind"), 20))
    if ask is None or not ask.manual:
        raise ReadingRefused(_("This measurement is not entered by hand here."))
    unit = _text(data.get("unit"), 20)
    when = timezone.now()
    act = seat.consultation.uuid
    try:
        if ask.manual == "blood_pressure":
            high, low = manual_entry.check_blood_pressure(
                _text(data.get("systolic"), 20), _text(data.get("diastolic"), 20), unit
            )
            checked = [high, low]
            news = [
                measurements.NewReading(
                    code=BLOOD_PRESSURE.loinc,
                    components=tuple(
                        measurements.Quantity(
                            c.value, c.unit, bluetooth.CODES[c.measure].loinc or ""
                        )
                        for c in checked
                    ),
                    effective_at=when,
                    encounter=act,
                    method=Method.MANUAL,
                )
            ]
        else:
            entry = manual_entry.check_entry(
                Measure(ask.manual), _text(data.get("value"), 20), unit
            )
            checked = [entry]
            loinc = _loinc(entry.measure)
            assert loinc is not None
            news = [
                measurements.NewReading(
                    code=loinc,
                    value=Decimal(entry.value),
                    unit=entry.unit,
                    effective_at=when,
                    encounter=act,
                    method=Method.MANUAL,
                )
            ]
    except manual_entry.EntryRefused as error:
        raise ReadingRefused(error.message) from None
    warnings = [c.warning for c in checked if c.warning]
    return Sent(_record(seat, news), warnings)


# --- Captures and files ------------------------------------------------------------------------

# A still of the video, or a file of the devices beside the patient, as the room takes them.
ROOM_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    """What the assistant says a file is: the medium it becomes and the types it may hold."""

    kind: str
    types: tuple[str, ...]


FILE_KINDS = {
    "ecg": FileKind(MediaKind.ECG, (PDF.mime, HL7_AECG.mime)),
    "sound": FileKind(MediaKind.SOUND, (WAV.mime, MP3.mime)),
    "otoscope": FileKind(MediaKind.PHOTO, (JPEG.mime, PNG.mime)),
    "dermatoscope": FileKind(MediaKind.PHOTO, (JPEG.mime, PNG.mime)),
    "photo": FileKind(MediaKind.PHOTO, (JPEG.mime, PNG.mime)),
}
CAPTURE = FileKind(MediaKind.PHOTO, (JPEG.mime,))


def file_kind_label(what: str) -> str:
    return {
        "ecg": _("ECG"),
        "sound": _("Stethoscope sound"),
        "otoscope": _("Otoscope photo"),
        "dermatoscope": _("Dermatoscope photo"),
        "photo": _("Photo"),
        "capture": _("Still from the video"),
    }[what]


def _checked_file(what: FileKind, upload: Upload) -> None:
    """The content is what was said: its type sniffed from the bytes (magic, XML root), its size."""
    if len(upload.data) > ROOM_MAX_BYTES:
        limit = ROOM_MAX_BYTES // (1024 * 1024)
        raise ReadingRefused(
            ngettext(
                "The file is larger than %(mb)d MB.", "The file is larger than %(mb)d MB.", limit
            )
            % {"mb": limit}
        )
    try:
        found = sniff(upload.data, max_bytes=ROOM_MAX_BYTES, name=upload.name or None)
    except RejectedFile as error:
        raise ReadingRefused(storage.rejection_message(error.reason)) from None
    if found.mime not in what.types:
        if what.kind == MediaKind.ECG:
            raise ReadingRefused(_("An ECG is sent as a PDF or an HL7 aECG XML file."))
        if what.kind == MediaKind.SOUND:
            raise ReadingRefused(_("A stethoscope sound is sent as a WAV or MP3 file."))
        raise ReadingRefused(_("A photo is sent as a JPEG or PNG image."))


def send_media(seat: Seat, what: str, upload: Upload, *, captured: bool = False) -> Media:
    """A still of the video (``captured``) or a file, as a Media of the act; performer: the seat.

    The seat was decided by ``policy.teleconsult.seat_for_reading``; the write
    asks ``policy.measurements`` (one audit entry) through ``record_media``.
    """
    kind = CAPTURE if captured else FILE_KINDS.get(what)
    if kind is None:
        raise ReadingRefused(_("Say what the file is: ECG, sound or photo."))
    _checked_file(kind, upload)
    user = seat.user
    assert user is not None  # seat_for_reading: an account
    now = timezone.now()
    title = "{} {}".format(
        file_kind_label("capture" if captured else what),
        timezone.localtime(now).strftime("%H:%M"),
    )
    try:
        return measurements.record_media(
            user,
            seat.patient,
            measurements.NewMedia(
                kind=kind.kind,
                upload=upload,
                taken_at=now,
                title=title,
                method=Method.CAPTURE if captured else Method.IMPORT,
                encounter=seat.consultation.uuid,
            ),
        )
    except measurements.ReadingRefused as error:
        raise ReadingRefused(error.message) from None


def mark_media(user: Any, media_uuid: object, significant: bool) -> Media:
    """The doctor marks a photo, sound or tracing of the act (``measurements``' policy decides)."""
    return measurements.mark_media_significant(user, media_uuid, significant)


def mark(user: Any, reading_uuid: object, significant: bool) -> Observation:
    """The doctor marks a reading of the act significant (``measurements``' policy decides)."""
    return measurements.mark_significant(user, reading_uuid, significant)


# Where each act code is held, in the order a professional's practices are tried: a nurse's
# TLL at a dedicated site, a pharmacist's in her pharmacy; TLS and TLD at the patient's home.
PLACES_OF_CODE: dict[str, tuple[str, ...]] = {
    ActCode.TLL: (
        StructureKind.MOBILE_UNIT,
        StructureKind.TELECONSULTATION_POINT,
        StructureKind.EHPAD,
        StructureKind.MSP,
    ),
    ActCode.PHARMACIST: (StructureKind.PHARMACY,),
}


def place_for(professional: Professional, act_code: str) -> Structure | None:
    """The place of the act among the professional's practices (None: the patient's home)."""
    kinds = PLACES_OF_CODE.get(act_code, ())
    practices = {s.kind: s for s in professional.structures.filter(kind__in=kinds, active=True)}
    return next((practices[k] for k in kinds if k in practices), None)
