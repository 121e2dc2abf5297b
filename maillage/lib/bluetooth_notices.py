"""What a device says about its own reading, for the doctor: in French, and whether it casts doubt.

A blood-pressure monitor reports a loose cuff or movement, an oximeter a poor
signal or "data for demonstration", a glucose meter a short sample: the value
may be wrong, and the doctor who did not see the measurement should know it.
An irregular pulse is a finding, not a doubt. Status bits that say nothing
useful at the bedside (validated data, data from storage) give no notice.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from maillage.lib.bluetooth import (
    BloodPressureReading,
    GlucoseReading,
    PlxContinuousReading,
    PlxSpotCheckReading,
    Reading,
    StatusBits,
)


@dataclass(frozen=True)
class Notice:
    code: str  # the status name of lib.bluetooth ("cuff_too_loose")
    label: Promise
    doubtful: bool  # the value may be wrong: measure again before relying on it


# code -> (label, doubtful)
NOTICES: dict[str, tuple[Promise, bool]] = {
    # Blood pressure measurement status.
    "body_movement": (_("The patient moved during the measurement"), True),
    "cuff_too_loose": (_("The cuff is too loose"), True),
    "irregular_pulse": (_("Irregular pulse detected"), False),
    "pulse_above_range": (_("Pulse above the device's range"), True),
    "pulse_below_range": (_("Pulse below the device's range"), True),
    "improper_position": (_("Improper measurement position"), True),
    # Pulse oximeter measurement status.
    "measurement_ongoing": (_("Measurement still in progress"), True),
    "early_estimated_data": (_("Early estimate"), True),
    "calibration_ongoing": (_("Calibration in progress"), True),
    "measurement_unavailable": (_("Measurement unavailable"), True),
    "questionable_measurement": (_("Questionable measurement"), True),
    "invalid_measurement": (_("Invalid measurement"), True),
    "data_for_demonstration": (_("Demonstration data, not the patient's"), True),
    "data_for_testing": (_("Test data, not the patient's"), True),
    # Pulse oximeter device and sensor status.
    "equipment_malfunction": (_("Device malfunction"), True),
    "signal_processing_irregularity": (_("Signal processing irregularity"), True),
    "inadequate_signal": (_("Inadequate signal"), True),
    "poor_signal": (_("Poor signal"), True),
    "low_perfusion": (_("Low perfusion"), True),
    "erratic_signal": (_("Erratic signal"), True),
    "nonpulsatile_signal": (_("Non-pulsatile signal"), True),
    "questionable_pulse": (_("Questionable pulse"), True),
    "sensor_interference": (_("Sensor interference"), True),
    "sensor_unconnected": (_("Sensor not on the patient"), True),
    "unknown_sensor": (_("Unknown sensor connected"), True),
    "sensor_displaced": (_("Sensor displaced"), True),
    "sensor_malfunction": (_("Sensor malfunction"), True),
    "sensor_disconnected": (_("Sensor disconnected"), True),
    # Glucose sensor status.
    "battery_low": (_("Device battery low"), False),
    "sample_size_insufficient": (_("Blood sample too small"), True),
    "strip_insertion_error": (_("Strip inserted wrongly"), True),
    "strip_type_incorrect": (_("Wrong type of strip"), True),
    "result_too_high": (_("Result above what the device can measure"), True),
    "result_too_low": (_("Result below what the device can measure"), True),
    "temperature_too_high": (_("Device too hot"), True),
    "temperature_too_low": (_("Device too cold"), True),
    "read_interrupted": (_("Strip pulled out too soon"), True),
    "device_fault": (_("Device fault"), True),
    "time_fault": (_("The device's clock is wrong"), False),
}
# Glucose's "sensor_malfunction" shares its name with the oximeter's: one notice serves both.


def _statuses(reading: Reading) -> list[StatusBits | None]:
    if isinstance(reading, BloodPressureReading):
        return [reading.status]
    if isinstance(reading, PlxSpotCheckReading | PlxContinuousReading):
        return [reading.measurement_status, reading.device_status]
    if isinstance(reading, GlucoseReading):
        return [reading.sensor_status]
    return []


def notices(reading: Reading) -> list[Notice]:
    """The device's remarks on this reading, in the order of its status bits."""
    found = []
    for status in _statuses(reading):
        for code in status.names if status else ():
            if code in NOTICES:
                label, doubtful = NOTICES[code]
                found.append(Notice(code, label, doubtful))
    if isinstance(reading, PlxSpotCheckReading) and reading.clock_not_set:
        found.append(Notice("clock_not_set", _("The device's clock is not set"), False))
    return found


def is_doubtful(reading: Reading) -> bool:
    return any(notice.doubtful for notice in notices(reading))
