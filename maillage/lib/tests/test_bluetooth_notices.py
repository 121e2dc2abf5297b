"""The device's remarks on its reading, in French, and which of them cast doubt."""

from __future__ import annotations

import pytest
from django.utils.translation import override

from maillage.lib import bluetooth as bt
from maillage.lib.bluetooth_notices import NOTICES, is_doubtful, notices


@pytest.fixture(autouse=True)
def _french() -> object:
    with override("fr"):
        yield


def _read(characteristic: int, hex_bytes: str) -> bt.Reading:
    return bt.parse(characteristic, bytes.fromhex(hex_bytes.replace(" ", "")))


def test_a_loose_cuff_casts_doubt_and_an_irregular_pulse_is_a_finding() -> None:
    loose = _read(bt.BLOOD_PRESSURE_MEASUREMENT, "10 8C00 5A00 6900 0200")
    assert [(n.code, str(n.label), n.doubtful) for n in notices(loose)] == [
        ("cuff_too_loose", "Le brassard est trop lâche", True)
    ]
    assert is_doubtful(loose)
    irregular = _read(bt.BLOOD_PRESSURE_MEASUREMENT, "10 8C00 5A00 6900 0400")
    assert [(n.code, str(n.label)) for n in notices(irregular)] == [
        ("irregular_pulse", "Pouls irrégulier détecté")
    ]
    assert not is_doubtful(irregular)


def test_oximeter_statuses_and_its_clock() -> None:
    reading = _read(bt.PLX_SPOT_CHECK_MEASUREMENT, "1E 6100 4100 8040 200400 19F0")
    assert [str(n.label) for n in notices(reading)] == [
        "Mesure douteuse",
        "Faible perfusion",
        "Interférence du capteur",
        "L'horloge de l'appareil n'est pas réglée",
    ]
    assert is_doubtful(reading)
    demo = _read(bt.PLX_CONTINUOUS_MEASUREMENT, "04 6200 4800 0004")
    assert [str(n.label) for n in notices(demo)] == [
        "Données de démonstration, pas celles du patient"
    ]


def test_a_plain_reading_has_no_notice() -> None:
    assert notices(_read(bt.BLOOD_PRESSURE_MEASUREMENT, "00 7800 5000 5D00")) == []
    assert notices(_read(bt.TEMPERATURE_MEASUREMENT, "00 6E0100FF")) == []
    assert notices(_read(bt.WEIGHT_MEASUREMENT, "00 1437")) == []
    validated = _read(bt.PLX_SPOT_CHECK_MEASUREMENT, "02 6200 4800 8000")
    assert notices(validated) == []


def test_glucose_battery_and_sample() -> None:
    reading = _read(bt.GLUCOSE_MEASUREMENT, "0A 0100 EA07 0C 03 07 2D 00 5FB0 11 0500")
    assert [(n.code, n.doubtful) for n in notices(reading)] == [
        ("battery_low", False),
        ("sample_size_insufficient", True),
    ]


def test_every_named_status_has_a_french_notice_or_is_silent_on_purpose() -> None:
    silent = {
        "validated_data",
        "fully_qualified_data",
        "data_from_storage",
        "extended_display_update",
        "signal_analysis_ongoing",
    }
    named = (
        set(bt.BLOOD_PRESSURE_STATUS.values())
        | set(bt.BLOOD_PRESSURE_PULSE_RANGE.values())
        | {"improper_position"}
        | set(bt.PLX_MEASUREMENT_STATUS.values())
        | set(bt.PLX_DEVICE_STATUS.values())
        | set(bt.GLUCOSE_SENSOR_STATUS.values())
    )
    assert named - silent == set(NOTICES)
    for label, _doubtful in NOTICES.values():
        with override("en"):
            english = str(label)
        assert str(label) != english, english
