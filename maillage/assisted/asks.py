"""The measurements a doctor asks for from the room, and how the assistant takes each (data).

Each button of the doctor's room is one ``Ask``: its label on the button,
the short instructions the assistant's page shows, and what takes it (a
Bluetooth service of ``bluetooth.js``, a manual entry's measure, or a file:
auscultation, ECG and photo go through the room's shared files for now).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Ask:
    kind: str
    label: Promise
    instructions: tuple[Promise, ...]
    bluetooth: str = ""  # bluetooth.js device kind, when a standard device takes it
    manual: str = ""  # the manual entry's measure (lib.manual_entry / lib.bluetooth.Measure)


ASKS: tuple[Ask, ...] = (
    Ask(
        "blood_pressure",
        _("Take the blood pressure"),
        (
            _("Patient seated for 5 minutes, back supported, arm bare at heart level."),
            _("Cuff 2 cm above the elbow crease, tube along the artery."),
            _("Start the monitor; nobody talks during the measurement."),
        ),
        bluetooth="blood_pressure",
        manual="blood_pressure",
    ),
    Ask(
        "spo2",
        _("Oxygen saturation"),
        (
            _("Warm hand, nail without varnish, finger still on the table."),
            _("Wait for a stable value (about 30 seconds) before sending it."),
        ),
        bluetooth="pulse_oximeter",
        manual="spo2",
    ),
    Ask(
        "temperature",
        _("Temperature"),
        (
            _("Say where it is taken (ear, mouth, forehead, armpit)."),
            _("No hot or cold drink in the last 15 minutes."),
        ),
        bluetooth="thermometer",
        manual="temperature",
    ),
    Ask(
        "weight",
        _("Weight"),
        (
            _("Scale on a hard floor, shoes and coat off."),
            _("Patient standing still in the middle of the scale."),
        ),
        bluetooth="weight_scale",
        manual="weight",
    ),
    Ask(
        "glucose",
        _("Blood glucose"),
        (
            _("Wash and dry the finger; prick its side."),
            _("Wipe the first drop, take the second; say whether the patient has eaten."),
        ),
        bluetooth="glucose",
        manual="glucose",
    ),
    Ask(
        "auscultation",
        _("Auscultation"),
        (
            _("Connected stethoscope on bare skin; the patient breathes deeply through the mouth."),
            _("Follow the doctor's orders for each place (front, back, heart)."),
        ),
    ),
    Ask(
        "ecg",
        _("ECG"),
        (
            _("Patient lying down, relaxed, metal objects off."),
            _("Place the electrodes, record 10 seconds, share the tracing (PDF)."),
        ),
    ),
    Ask(
        "photo",
        _("Photo"),
        (
            _("Good light, no flash; a ruler beside a lesion."),
            _("Take it close and sharp, then share the photo."),
        ),
    ),
)

BY_KIND: dict[str, Ask] = {ask.kind: ask for ask in ASKS}
