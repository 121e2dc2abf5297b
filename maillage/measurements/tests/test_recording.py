"""Recording readings through the policy: who may, for which act, and what each leaves in the trail.

The attacker's ways in are each tried and refused as "not found", with the
rule in the audit entry: a professional outside the care team, a
participant of another patient's act, a patient writing for another
patient, a professional the patient opposed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import in_care_team
from maillage.measurements import actions
from maillage.measurements.actions import NewReading, Quantity, ReadingRefused
from maillage.measurements.models import Method, Observation
from maillage.measurements.tests.conftest import blood_pressure, spo2
from maillage.policy import measurements as policy
from maillage.policy.gate import PatientNotFound, open_record
from maillage.records import actions as records
from maillage.teleconsult import actions as teleconsult
from maillage.testing import factories as f

pytestmark = pytest.mark.django_db


def _entries(user, action=Action.OBSERVATION_WRITE):
    return list(AuditEntry.objects.filter(action=action, actor=user).order_by("id"))


def test_the_nurse_of_the_act_records_a_blood_pressure_for_it(personas, act) -> None:
    nurse = personas.nurse.user
    reading = actions.record_observation(
        nurse, personas.patient, blood_pressure(encounter=act.uuid, method=Method.BLUETOOTH)
    )
    assert (reading.code, reading.category, reading.value) == ("85354-9", "vital-signs", None)
    assert reading.components == [
        {"code": "8480-6", "value": "142.0000", "unit": "mm[Hg]"},
        {"code": "8462-4", "value": "88.0000", "unit": "mm[Hg]"},
    ]
    assert (reading.performer, reading.encounter, reading.version) == (nurse, act, 1)
    [entry] = _entries(nurse)
    assert (entry.outcome, entry.basis, entry.patient) == (
        Outcome.GRANTED,
        "teleconsultation",
        personas.patient,
    )
    assert entry.detail["observation"] == str(reading.uuid)


def test_an_act_seat_must_name_its_act(personas, act) -> None:
    nurse = personas.nurse.user
    with pytest.raises(PatientNotFound):
        actions.record_observation(nurse, personas.patient, spo2())
    [entry] = _entries(nurse)
    assert (entry.outcome, entry.detail["rule"]) == (Outcome.DENIED, policy.ENCOUNTER_REQUIRED)
    assert not Observation.objects.exists()


def test_the_care_team_records_without_an_act(personas) -> None:
    in_care_team(personas.nurse, personas.patient)
    reading = actions.record_observation(personas.nurse.user, personas.patient, spo2("94"))
    assert reading.value == Decimal("94") and reading.encounter is None
    assert _entries(personas.nurse.user)[0].basis == "care_team"


def test_a_professional_outside_the_care_team_is_refused(personas) -> None:
    cardiologist = personas.cardiologist.user
    with pytest.raises(PatientNotFound):
        actions.record_observation(cardiologist, personas.patient, spo2())
    [entry] = _entries(cardiologist)
    assert (entry.outcome, entry.detail["rule"]) == (Outcome.DENIED, "relation")


def test_a_participant_of_another_patients_act_is_refused(personas, act, other_act) -> None:
    pharmacist = other_act.participants.get(role="assistant").user
    # Naming the act she sits in, for our patient: not this patient's act.
    with pytest.raises(PatientNotFound):
        actions.record_observation(pharmacist, personas.patient, spo2(encounter=other_act.uuid))
    # Naming our patient's act: she has no place in it, so no relation at all.
    with pytest.raises(PatientNotFound):
        actions.record_observation(pharmacist, personas.patient, spo2(encounter=act.uuid))
    assert [e.outcome for e in _entries(pharmacist)] == [Outcome.DENIED, Outcome.DENIED]
    assert not Observation.objects.exists()


def test_the_doctor_of_another_act_cannot_file_it_under_ours(personas, act, other_act) -> None:
    # The cardiologist has a seat in the other act only; with a care-team
    # place for our patient he still cannot attach a reading to our act.
    in_care_team(personas.cardiologist, personas.patient)
    with pytest.raises(PatientNotFound):
        actions.record_observation(
            personas.cardiologist.user, personas.patient, spo2(encounter=act.uuid)
        )
    [entry] = _entries(personas.cardiologist.user)
    assert entry.detail["rule"] == policy.NOT_PARTICIPANT


def test_a_reading_for_another_patients_act_is_refused(personas, act, other_act) -> None:
    in_care_team(personas.nurse, other_act.patient)
    with pytest.raises(PatientNotFound):
        actions.record_observation(personas.nurse.user, other_act.patient, spo2(encounter=act.uuid))
    assert _entries(personas.nurse.user)[0].detail["rule"] == policy.OTHER_PATIENT


def test_a_patient_never_records_for_another_patient(personas, other_act) -> None:
    with pytest.raises(PatientNotFound):
        actions.record_observation(personas.patient_user, other_act.patient, spo2())
    [entry] = _entries(personas.patient_user)
    assert (entry.outcome, entry.detail["rule"]) == (Outcome.DENIED, "role")


def test_an_opposed_professional_is_refused_even_in_the_act(personas, act) -> None:
    records.oppose_professional(personas.patient_user, personas.patient, personas.nurse)
    with pytest.raises(PatientNotFound):
        actions.record_observation(personas.nurse.user, personas.patient, spo2(encounter=act.uuid))
    assert _entries(personas.nurse.user)[0].detail["rule"] == "opposed_professional"


def test_an_ended_act_takes_no_more_readings_from_its_seat(personas, act) -> None:
    teleconsult.close(act, personas.treating_doctor.user)
    with pytest.raises(PatientNotFound):
        actions.record_observation(personas.nurse.user, personas.patient, spo2(encounter=act.uuid))
    assert _entries(personas.nurse.user)[0].detail["rule"] == policy.CLOSED


@pytest.mark.parametrize(
    ("reading", "element"),
    [
        (NewReading(code="1234-5", effective_at=timezone.now(), value=Decimal(1)), "code"),
        (spo2("96", unit="mm[Hg]"), "value"),
        (spo2("140"), "value"),
        (spo2("NaN"), "value"),
        (spo2(effective_at=timezone.now() + dt.timedelta(hours=2)), "effective"),
        (blood_pressure("900"), "component[0]"),
        (
            NewReading(
                code="85354-9",
                effective_at=timezone.now(),
                components=(Quantity(Decimal(120), "mm[Hg]", "8480-6"),),
            ),
            "component",
        ),
        (
            NewReading(code="8310-5", effective_at=timezone.now(), value=Decimal(99), unit="Cel"),
            "value",
        ),
    ],
)
def test_impossible_readings_are_refused_before_the_policy(personas, act, reading, element) -> None:
    with pytest.raises(ReadingRefused) as refused:
        actions.record_observation(
            personas.nurse.user,
            personas.patient,
            NewReading(**{**reading.__dict__, "encounter": act.uuid}),
        )
    assert refused.value.element == element and refused.value.message
    assert not Observation.objects.exists() and not _entries(personas.nurse.user)


def test_a_device_hub_may_send_the_mdc_codes(personas, act) -> None:
    reading = actions.record_observation(
        personas.nurse.user,
        personas.patient,
        NewReading(
            code="150020",
            effective_at=timezone.now(),
            components=(
                Quantity(Decimal("16.0"), "kPa", "150021"),
                Quantity(Decimal("10.7"), "kPa", "150022"),
            ),
            encounter=act.uuid,
        ),
    )
    assert reading.code == "85354-9" and [c["code"] for c in reading.components] == [
        "8480-6",
        "8462-4",
    ]


def test_only_a_doctor_marks_a_reading_significant(personas, act) -> None:
    reading = actions.record_observation(
        personas.nurse.user, personas.patient, spo2("88", encounter=act.uuid)
    )
    with pytest.raises(policy.ReadingNotFound):
        actions.mark_significant(personas.nurse.user, reading.uuid)
    marked = actions.mark_significant(personas.treating_doctor.user, reading.uuid)
    assert marked.significant and marked.version == 2
    assert marked.marked_by == personas.treating_doctor.user
    refused, done = _entries(personas.nurse.user)[-1], _entries(personas.treating_doctor.user)[-1]
    assert refused.detail["rule"] == policy.NOT_DOCTOR
    assert (done.outcome, done.detail["significant"]) == (Outcome.GRANTED, True)


def test_its_performer_corrects_a_reading_and_nobody_else(personas, act) -> None:
    reading = actions.record_observation(
        personas.nurse.user, personas.patient, spo2("69", encounter=act.uuid)
    )
    with pytest.raises(policy.ReadingNotFound):
        actions.correct_observation(personas.treating_doctor.user, reading.uuid, spo2("96"))
    corrected = spo2("96", encounter=act.uuid)
    with pytest.raises(actions.StaleVersion):
        actions.correct_observation(
            personas.nurse.user, reading.uuid, corrected, expected_version=3
        )
    with pytest.raises(ReadingRefused) as moved:
        actions.correct_observation(personas.nurse.user, reading.uuid, spo2("96"))
    assert moved.value.element == "encounter"
    fixed = actions.correct_observation(
        personas.nurse.user, reading.uuid, corrected, expected_version=1
    )
    assert (fixed.value, fixed.status, fixed.version) == (Decimal("96"), "amended", 2)


def test_readings_are_read_through_the_policy(personas, act, other_act) -> None:
    reading = actions.record_observation(
        personas.nurse.user, personas.patient, spo2(encounter=act.uuid)
    )
    # Her own reading, by the patient; the act's doctor; one audited entry each.
    for user in (personas.patient_user, personas.treating_doctor.user):
        found, _opened = policy.get_observation(user, reading.uuid)
        assert found == reading
        assert _entries(user, Action.OBSERVATION_READ)[-1].outcome == Outcome.GRANTED
    # The other act's pharmacist and a stranger: not found, audited.
    pharmacist = other_act.participants.get(role="assistant").user
    for user in (pharmacist, personas.cardiologist.user, f.user("x", "patient")):
        with pytest.raises(policy.ReadingNotFound):
            policy.get_observation(user, reading.uuid)
        assert _entries(user, Action.OBSERVATION_READ)[-1].outcome == Outcome.DENIED


def test_an_act_seat_sees_only_its_acts_readings(personas, act) -> None:
    in_care_team(personas.treating_doctor, personas.patient)
    outside = actions.record_observation(
        personas.treating_doctor.user, personas.patient, spo2("97")
    )
    inside = actions.record_observation(
        personas.nurse.user, personas.patient, spo2("95", encounter=act.uuid)
    )
    opened = policy.open_readings(personas.nurse.user, personas.patient)
    assert list(opened.observations()) == [inside]
    with pytest.raises(policy.ReadingNotFound):
        policy.get_observation(personas.nurse.user, outside.uuid)
    assert _entries(personas.nurse.user, Action.OBSERVATION_READ)[-1].detail["rule"] == (
        policy.NOT_SHOWN
    )
    doctor = policy.open_readings(personas.treating_doctor.user, personas.patient)
    assert set(doctor.observations()) == {inside, outside}


def test_when_the_patient_refuses_sharing_a_professional_sees_only_his_own(personas, act) -> None:
    in_care_team(personas.cardiologist, personas.patient)
    by_nurse = actions.record_observation(
        personas.nurse.user, personas.patient, spo2("95", encounter=act.uuid)
    )
    by_cardiologist = actions.record_observation(
        personas.cardiologist.user, personas.patient, spo2("93")
    )
    records.set_sharing(personas.patient_user, personas.patient, granted=False)
    cardiologist = policy.open_readings(personas.cardiologist.user, personas.patient)
    assert list(cardiologist.observations()) == [by_cardiologist]
    # The act's doctor still sees the readings of her act; the patient sees all hers.
    doctor = policy.open_readings(personas.treating_doctor.user, personas.patient)
    assert list(doctor.observations()) == [by_nurse]
    patient = policy.open_readings(personas.patient_user, personas.patient)
    assert set(patient.observations()) == {by_nurse, by_cardiologist}


def test_a_reading_entered_in_error_leaves_the_record_page(personas, act) -> None:
    reading = actions.record_observation(
        personas.nurse.user, personas.patient, spo2("59", encounter=act.uuid)
    )
    actions.correct_observation(
        personas.nurse.user,
        reading.uuid,
        spo2("59", encounter=act.uuid),
        status="entered-in-error",
    )
    opened = open_record(personas.patient_user, personas.patient)
    assert policy.recent_readings(opened) == []
