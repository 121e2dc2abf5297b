"""The only writers of readings, media and devices; each asks ``policy.measurements``.

A reading is checked first (known code, allowed unit, a value a body can
show, a time not in the future): what the sender got wrong is refused
before the policy is asked, as a file is checked before the record's gate.
Then the policy decides and the write closes its grant, in the same
transaction: one audit entry per write.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.audit.actions import Event, record
from maillage.audit.models import Action
from maillage.files import storage
from maillage.files.storage import RejectedUpload, Upload
from maillage.measurements.codes import (
    BY_MDC,
    CODES,
    COMPONENTS,
    COMPONENTS_BY_MDC,
    Code,
    Panel,
)
from maillage.measurements.models import (
    Component,
    Device,
    DeviceKind,
    Media,
    MediaKind,
    Method,
    Observation,
    Status,
)
from maillage.policy import measurements as policy

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.patients.models import Patient

# A device's clock may run a little ahead of ours; more than this is a wrong time.
CLOCK_SLACK = dt.timedelta(minutes=5)
_PLACES = Decimal("0.0001")
# Files of media by kind: what each kind may hold (``files.storage`` sniffs the type).
MEDIA_TYPES = {
    MediaKind.PHOTO: ("image/",),
    MediaKind.SOUND: ("audio/",),
    MediaKind.ECG: ("application/pdf", "application/xml", "image/"),
    MediaKind.VIDEO: ("video/",),
}


class ReadingRefused(ValueError):
    """What was sent cannot be a reading; ``message`` is for the person, ``element`` says where."""

    def __init__(self, message: str, element: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.element = element


@dataclass(frozen=True)
class Quantity:
    value: Decimal
    unit: str
    code: str = ""  # a component's LOINC (or MDC) code


@dataclass(frozen=True)
class NewReading:
    code: str  # LOINC, or the MDC code a device hub sends
    effective_at: dt.datetime
    method: str = Method.MANUAL
    value: Decimal | None = None
    unit: str = ""
    components: tuple[Quantity, ...] = ()
    encounter: object | None = None  # the act's public id
    device: Device | None = None
    note: str = ""


@dataclass(frozen=True)
class Checked:
    """A reading as it will be stored."""

    code: Code | Panel
    value: Decimal | None
    unit: str
    components: list[Component]


def known_code(code: str) -> Code | Panel:
    found = CODES.get(code) or BY_MDC.get(code)
    if found is None:
        raise ReadingRefused(
            _("The code %(code)s is not a measurement this platform stores.") % {"code": code[:40]},
            "code",
        )
    return found


def _exact(value: Decimal, element: str) -> Decimal:
    try:
        if not value.is_finite():
            raise InvalidOperation
        return value.quantize(_PLACES)
    except InvalidOperation:
        raise ReadingRefused(_("This value is not a number."), element) from None


def check_quantity(code: Code, value: Decimal | None, unit: str, element: str) -> Decimal:
    """The value, if its unit is allowed for the code and a body can show it."""
    if value is None:
        raise ReadingRefused(_("A value is required."), element)
    span = code.units.get(unit)
    if span is None:
        raise ReadingRefused(
            _("The unit “%(unit)s” is not allowed for %(label)s: use %(units)s.")
            % {"unit": unit[:20], "label": code.label, "units": ", ".join(code.units)},
            element,
        )
    exact = _exact(value, element)
    if not span.holds(exact):
        raise ReadingRefused(
            _("%(value)s %(unit)s is outside what is possible for %(label)s (%(low)s to %(high)s).")
            % {
                "value": exact.normalize(),
                "unit": unit,
                "label": code.label,
                "low": span.low,
                "high": span.high,
            },
            element,
        )
    return exact


def _components(panel: Panel, given: tuple[Quantity, ...]) -> list[Component]:
    found: dict[str, Component] = {}
    for index, part in enumerate(given):
        element = f"component[{index}]"
        code = COMPONENTS.get(part.code) or COMPONENTS_BY_MDC.get(part.code)
        if code is None or code not in panel.components:
            raise ReadingRefused(
                _("The component %(code)s is not part of %(label)s.")
                % {"code": part.code[:40], "label": panel.label},
                element,
            )
        if code.loinc in found:
            raise ReadingRefused(_("This component is given twice."), element)
        value = check_quantity(code, part.value, part.unit, element)
        found[code.loinc] = Component(code=code.loinc, value=str(value), unit=part.unit)
    missing = [c for c in panel.required if c not in found]
    if missing:
        raise ReadingRefused(
            _("%(label)s needs its components %(codes)s.")
            % {"label": panel.label, "codes": ", ".join(missing)},
            "component",
        )
    return [found[c.loinc] for c in panel.components if c.loinc in found]


def check_reading(new: NewReading) -> Checked:
    """The reading as stored, or ReadingRefused naming what is wrong."""
    code = known_code(new.code)
    if new.method not in Method.values:
        raise ReadingRefused(_("Unknown method."), "method")
    if timezone.is_naive(new.effective_at):
        raise ReadingRefused(_("Give the time of the reading with its time zone."), "effective")
    if new.effective_at > timezone.now() + CLOCK_SLACK:
        raise ReadingRefused(_("The time of the reading is in the future."), "effective")
    if isinstance(code, Panel):
        if new.value is not None:
            raise ReadingRefused(
                _("%(label)s is given by its components, not by one value.")
                % {"label": code.label},
                "value",
            )
        return Checked(code, None, "", _components(code, new.components))
    if new.components:
        raise ReadingRefused(_("This measurement has no components."), "component")
    value = check_quantity(code, new.value, new.unit, "value")
    return Checked(code, value, new.unit, [])


def record_observation(user: User, patient: Patient, new: NewReading) -> Observation:
    """A reading of the patient, taken by the user (the performer), through the policy."""
    checked = check_reading(new)
    act, grant = policy.open_for_recording(
        user, patient, new.encounter, detail={"code": checked.code.loinc}
    )
    with transaction.atomic():
        reading = Observation.objects.create(
            patient=patient,
            code=checked.code.loinc,
            category=checked.code.category,
            value=checked.value,
            unit=checked.unit,
            components=checked.components,
            effective_at=new.effective_at,
            performer=user,
            performer_label=user.display_name,
            encounter=act,
            device=new.device,
            method=new.method,
            note=new.note.strip()[:500],
        )
        grant.done(observation=str(reading.uuid))
    return reading


class StaleVersion(Exception):
    """The reading changed since the sender read it."""

    def __init__(self, current: int) -> None:
        super().__init__(current)
        self.current = current


def correct_observation(
    user: User,
    reading_uuid: object,
    new: NewReading,
    *,
    status: str = Status.AMENDED,
    expected_version: int | None = None,
    patient_uuid: object | None = None,
) -> Observation:
    """Its performer corrects a reading (or marks it entered in error): a new version.

    The patient, the act and the code stay: a different reading is a new one
    (``new.encounter`` names the reading's act, or None; ``patient_uuid`` its
    patient when the sender named one).
    """
    checked = check_reading(new)
    reading, grant = policy.observation_for_change(user, reading_uuid, performer_only=True)
    if checked.code.loinc != reading.code:
        grant.failed("code_changed")
        raise ReadingRefused(_("A reading keeps its code: record a new one instead."), "code")
    if patient_uuid is not None and str(patient_uuid) != str(reading.patient.uuid):
        grant.failed("patient_changed")
        raise ReadingRefused(_("A reading stays in the record of its patient."), "subject")
    act = reading.encounter.uuid if reading.encounter is not None else None
    if str(new.encounter) != str(act):
        grant.failed("encounter_changed")
        raise ReadingRefused(_("A reading stays with the act it was taken in."), "encounter")
    if status not in (Status.AMENDED, Status.ENTERED_IN_ERROR):
        status = Status.AMENDED
    with transaction.atomic():
        locked = Observation.objects.select_for_update().get(pk=reading.pk)
        if expected_version is not None and locked.version != expected_version:
            grant.failed("stale", version=locked.version)
            raise StaleVersion(locked.version)
        locked.value = checked.value
        locked.unit = checked.unit
        locked.components = checked.components
        locked.effective_at = new.effective_at
        locked.method = new.method
        locked.status = status
        locked.version = F("version") + 1
        locked.updated_at = timezone.now()
        if new.device is not None:
            locked.device = new.device
        locked.save()
        grant.done(status=status)
    locked.refresh_from_db()
    return locked


def mark_significant(user: User, reading_uuid: object, significant: bool = True) -> Observation:
    """The doctor marks a reading as significant (or takes the mark back)."""
    reading, grant = policy.observation_for_change(user, reading_uuid, doctor_only=True)
    with transaction.atomic():
        Observation.objects.filter(pk=reading.pk).update(
            significant=significant,
            marked_by=user,
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        grant.done(significant=significant)
    reading.refresh_from_db()
    return reading


# --- media -----------------------------------------------------------------------


@dataclass(frozen=True)
class NewMedia:
    kind: str
    upload: Upload
    taken_at: dt.datetime
    title: str = ""
    method: str = Method.IMPORT
    encounter: object | None = None
    device: Device | None = None


def _check_media(new: NewMedia) -> None:
    if new.kind not in MediaKind.values:
        raise ReadingRefused(_("Unknown kind of medium."), "type")
    if timezone.is_naive(new.taken_at) or new.taken_at > timezone.now() + CLOCK_SLACK:
        raise ReadingRefused(_("The time it was taken is missing or in the future."), "created")
    try:
        kind = storage.check(new.upload.data, new.upload.name)
    except RejectedUpload as error:
        raise ReadingRefused(error.message, "content") from None
    if not kind.mime.startswith(MEDIA_TYPES[MediaKind(new.kind)]):
        raise ReadingRefused(
            _("A file of type %(type)s cannot be this kind of medium.") % {"type": kind.mime},
            "content",
        )


def record_media(user: User, patient: Patient, new: NewMedia) -> Media:
    """A photo, sound or tracing of the patient, sealed through the files' storage."""
    _check_media(new)
    act, grant = policy.open_for_recording(user, patient, new.encounter, detail={"kind": new.kind})
    with storage.removed_if_undone(), transaction.atomic():
        stored = storage.store(new.upload.data, new.upload.name, by=user)
        medium = Media.objects.create(
            patient=patient,
            kind=new.kind,
            title=new.title.strip()[:200],
            file=stored,
            taken_at=new.taken_at,
            performer=user,
            performer_label=user.display_name,
            encounter=act,
            device=new.device,
            method=new.method,
        )
        grant.done(media=str(medium.uuid))
    return medium


def mark_media_significant(user: User, media_uuid: object, significant: bool = True) -> Media:
    medium, grant = policy.media_for_change(user, media_uuid)
    with transaction.atomic():
        Media.objects.filter(pk=medium.pk).update(
            significant=significant, version=F("version") + 1, updated_at=timezone.now()
        )
        grant.done(significant=significant)
    medium.refresh_from_db()
    return medium


# --- devices ---------------------------------------------------------------------


@dataclass(frozen=True)
class NewDevice:
    kind: str
    manufacturer: str = ""
    model_number: str = ""
    serial_number: str = ""
    system_id: str = ""


def _system_id(text: str) -> str:
    """An EUI-64 as 16 upper-case hex digits (separators dropped); ReadingRefused otherwise."""
    digits = "".join(c for c in text if c not in ":- ").upper()
    if digits and (len(digits) != 16 or any(c not in "0123456789ABCDEF" for c in digits)):
        raise ReadingRefused(_("A system id is an EUI-64: 16 hexadecimal digits."), "identifier")
    return digits


def register_device(user: User, new: NewDevice) -> tuple[Device, bool]:
    """A device, found again by its system id or created; (device, created)."""
    if new.kind not in DeviceKind.values:
        raise ReadingRefused(_("Unknown type of device."), "type")
    system_id = _system_id(new.system_id)
    policy.require_device_writer(user)
    if system_id:
        known = Device.objects.filter(system_id=system_id).first()
        if known is not None:
            return known, False
    with transaction.atomic():
        device = Device.objects.create(
            kind=new.kind,
            manufacturer=new.manufacturer.strip()[:100],
            model_number=new.model_number.strip()[:100],
            serial_number=new.serial_number.strip()[:100],
            system_id=system_id,
            created_by=user,
        )
        record(user, Event(action=Action.DEVICE_CREATE, detail={"device": str(device.uuid)}))
    return device, True
