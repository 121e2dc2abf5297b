"""``emit``: the model's check is a test-time proof of our mappers, off in production."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError

from maillage.fhir.validation import MapperDrift, emit, validating_responses

PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "meta": {"lastUpdated": "2026-12-03T10:00:00.123456+00:00"},
    "active": True,
    "identifier": [],
    "name": [{"family": "Renard", "given": ["Anne"], "text": None}],
    "birthDate": "1950-01-02",
    "telecom": None,
}
NORMAL = {
    "resourceType": "Patient",
    "id": "p1",
    "meta": {"lastUpdated": "2026-12-03T10:00:00.123456Z"},
    "active": True,
    "name": [{"family": "Renard", "given": ["Anne"]}],
    "birthDate": "1950-01-02",
}


def test_every_test_validates_responses() -> None:
    # maillage/conftest.py turns it on: the mappers are proven in every test.
    assert validating_responses()


def test_with_the_check_the_model_dump_is_returned_and_equals_the_normal_form() -> None:
    assert emit(Patient, PATIENT) == NORMAL


def test_with_the_check_an_invalid_resource_is_refused() -> None:
    with pytest.raises(ValidationError):
        emit(Patient, {**PATIENT, "birthDate": "yesterday"})
    with pytest.raises(ValidationError):
        emit(Patient, {**PATIENT, "notAnElement": 1})


def test_with_the_check_a_mapper_drifting_from_the_model_form_is_refused() -> None:
    # Valid FHIR, but the model writes the instant otherwise (no zero
    # fraction): the check names where, so that production (no check) never
    # sends what the tests did not see.
    drifting = {**PATIENT, "meta": {"lastUpdated": "2026-12-03T10:00:00.000+00:00"}}
    with pytest.raises(MapperDrift, match=r"\.meta\.lastUpdated"):
        emit(Patient, drifting)


def test_without_the_check_the_mapper_output_goes_out_in_the_same_normal_form(
    settings: object,
) -> None:
    settings.MAILLAGE_FHIR_VALIDATE_RESPONSES = False  # type: ignore[attr-defined]
    assert not validating_responses()
    assert emit(Patient, PATIENT) == NORMAL
    # Unchecked, as production sends it: nothing validates an invalid value.
    assert emit(Patient, {**PATIENT, "birthDate": "yesterday"})["birthDate"] == "yesterday"


def test_a_decimal_goes_out_as_the_model_writes_it(settings: object) -> None:
    quantity = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "BMI"},
        "valueQuantity": {"value": Decimal("27.4"), "unit": "kg/m2"},
    }
    checked = emit(Observation, quantity)
    settings.MAILLAGE_FHIR_VALIDATE_RESPONSES = False  # type: ignore[attr-defined]
    assert emit(Observation, quantity) == checked
    assert checked["valueQuantity"]["value"] == 27.4
