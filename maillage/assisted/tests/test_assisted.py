"""The assisted act without a browser: who assists, the readings stored, who may not send them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from maillage.assisted import actions as assisted
from maillage.assisted import room
from maillage.assisted.models import Assistance, MeasurementRequest
from maillage.assisted.tests.conftest import (
    CUFF_BYTES,
    OXIMETER_BYTES,
    AssistedAct,
    add_nurse,
    admit,
)
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.measurements.models import Device, Method, Observation
from maillage.policy import teleconsult as policy
from maillage.policy.teleconsult import ConsultationNotFound, Visitor
from maillage.teleconsult import actions
from maillage.teleconsult.actions import RoomRuleBroken
from maillage.teleconsult.models import ParticipantRole
from maillage.teleconsult.tests.conftest import invite
from maillage.teleconsult.tests.test_pages import client_for

pytestmark = pytest.mark.django_db


def cuff(**more: object) -> dict:
    return {
        "source": "device",
        "characteristic": "0x2a35",
        "bytes": CUFF_BYTES,
        "device": {"manufacturer": "Omron", "model": "M7", "systemId": "005F310504030201"},
        **more,
    }


def to(pushes: room.Pushes, participant: object) -> dict:
    """The frame one participant was sent (KeyError: none)."""
    return dict(pushes)[str(getattr(participant, "uuid", participant))]


def nurse_seat(act: AssistedAct) -> policy.Seat:
    return policy.take_seat(act.nurse_visitor, act.consultation.uuid)


def test_the_nurse_is_a_participant_with_her_act_code_and_place(personas, act) -> None:
    assert act.nurse.role == ParticipantRole.ASSISTANT
    assert act.nurse.user_id == personas.nurse.user_id
    assistance = Assistance.objects.get(participant=act.nurse)
    assert (assistance.act_code, assistance.place) == ("TLL", personas.mobile_unit)
    # The relation of the act now opens her seat (teleconsult's policy, no gate of ours).
    assert policy.participating(personas.nurse.user).filter(pk=act.consultation.pk).exists()
    entry = AuditEntry.objects.get(action=Action.TELECONSULT_WRITE, detail__act_code="TLL")
    assert entry.outcome == Outcome.GRANTED and entry.detail["assistant"] == str(act.nurse.uuid)


def test_a_nurse_bills_no_pharmacist_code_and_only_the_doctor_adds(personas, consultation) -> None:
    with pytest.raises(RoomRuleBroken) as refused:
        add_nurse(personas, consultation, code="pharmacist")
    assert "code" in refused.value.message
    with pytest.raises(ConsultationNotFound):
        policy.seat_for_change(
            Visitor(user=personas.patient_user), consultation.uuid, doctor_only=True
        )
    assert not Assistance.objects.exists()


def test_the_doctor_sees_who_assists_and_the_place_s_equipment(personas, act) -> None:
    client = client_for(personas.treating_doctor.user)
    page = client.get(f"/teleconsultation/{act.consultation.uuid}/").content.decode()
    assert "Unité mobile du Boischaut" in page
    assert "Tensiomètre" in page and "Stéthoscope connecté" in page
    assert "TLL" in page
    assert "Prenez la tension" in page


def test_the_doctor_s_request_is_kept_and_goes_to_the_assistant(personas, act) -> None:
    doctor = policy.take_seat(act.doctor, act.consultation.uuid)
    asked, receivers = room.ask(doctor, "blood_pressure")
    assert receivers == [str(act.nurse.uuid)]
    assert asked["label"] == "Prenez la tension"
    assert any("brassard" in line.lower() for line in asked["instructions"])
    assert MeasurementRequest.objects.get().kind == "blood_pressure"
    with pytest.raises(ConsultationNotFound):
        room.ask(nurse_seat(act), "blood_pressure")


def test_a_cuff_reading_is_parsed_again_and_stored_with_device_performer_encounter(
    personas, act
) -> None:
    before = AuditEntry.objects.filter(action=Action.OBSERVATION_WRITE).count()
    # What the browser says it parsed is not read: only the bytes are.
    sent = to(room.send_reading(nurse_seat(act), cuff(values={"systolic": "200"})), act.nurse)
    pressure = Observation.objects.get(code="85354-9")
    assert {c["code"]: Decimal(c["value"]) for c in pressure.components} == {
        "8480-6": Decimal(120),
        "8462-4": Decimal(80),
    }
    pulse = Observation.objects.get(code="8867-4")
    assert pulse.value == Decimal(72)
    for reading in (pressure, pulse):
        assert reading.encounter == act.consultation
        assert reading.performer == personas.nurse.user
        assert reading.method == Method.BLUETOOTH
        assert reading.device == Device.objects.get(system_id="005F310504030201")
    assert [r["text"] for r in sent["readings"]] == ["120/80 mmHg", "72 /min"]
    assert sent["warnings"]  # no mean arterial pressure
    writes = AuditEntry.objects.filter(action=Action.OBSERVATION_WRITE, outcome=Outcome.GRANTED)
    assert writes.count() - before == 2  # one entry per Observation


def test_a_malformed_packet_is_refused_in_french(act) -> None:
    with pytest.raises(assisted.ReadingRefused) as refused:
        room.send_reading(nurse_seat(act), cuff(bytes="04 7800"))
    assert "Le message de l’appareil n’a pas pu être lu" in refused.value.message
    assert not Observation.objects.exists()


def test_a_manual_spo2_out_of_range_is_refused_then_a_right_one_is_stored(act) -> None:
    seat = nurse_seat(act)
    manual = {"source": "manual", "kind": "spo2", "unit": "%", "systolic": "", "diastolic": ""}
    with pytest.raises(assisted.ReadingRefused) as refused:
        room.send_reading(seat, {**manual, "value": "150"})
    assert "pas possible" in refused.value.message, refused.value.message
    sent = to(room.send_reading(seat, {**manual, "value": "97"}), act.nurse)
    assert sent["readings"][0]["text"] == "97 %"
    reading = Observation.objects.get(code="2708-6")
    assert reading.method == Method.MANUAL and reading.device is None


def test_a_manual_pressure_in_cmhg_is_stored_in_mmhg(act) -> None:
    manual = {"source": "manual", "kind": "blood_pressure", "unit": "cm[Hg]", "value": ""}
    room.send_reading(nurse_seat(act), {**manual, "systolic": "14", "diastolic": "8"})
    pressure = Observation.objects.get(code="85354-9")
    assert [Decimal(c["value"]) for c in pressure.components] == [Decimal(140), Decimal(80)]


def test_an_oximeter_reading_gives_spo2_and_pulse(act) -> None:
    data = cuff(characteristic="2a5e", bytes=OXIMETER_BYTES)
    room.send_reading(nurse_seat(act), data)
    assert Observation.objects.get(code="2708-6").value == Decimal(97)
    assert Observation.objects.get(code="8867-4").value == Decimal(68)


def test_the_doctor_marks_a_reading_significant(personas, act) -> None:
    sent = to(room.send_reading(nurse_seat(act), cuff()), act.nurse)
    doctor = policy.take_seat(act.doctor, act.consultation.uuid)
    marked = to(room.mark(doctor, sent["readings"][0]["observation"], True), doctor.participant)
    assert marked["significant"] is True
    assert Observation.objects.get(code="85354-9").significant
    with pytest.raises(RoomRuleBroken):
        room.mark(nurse_seat(act), sent["readings"][0]["observation"], True)


# --- Attackers -------------------------------------------------------------------------


def _refused(visitor: Visitor, act: AssistedAct) -> None:
    seat = policy.Seat(act.consultation, act.nurse, visitor)  # whatever the socket held
    with pytest.raises(ConsultationNotFound):
        room.send_reading(seat, cuff())
    assert not Observation.objects.exists()


def test_the_patient_herself_may_not_post_readings_in_the_act(personas, act) -> None:
    visitor = Visitor(user=personas.patient_user)
    actions.arrive(policy.take_seat(visitor, act.consultation.uuid))
    admit(personas, act.consultation, visitor)
    _refused(visitor, act)
    denied = AuditEntry.objects.filter(
        action=Action.OBSERVATION_WRITE, outcome=Outcome.DENIED
    ).latest("pk")
    # The table gives a patient no OBSERVATION_WRITE in an act; had it, the seat's rule would.
    assert denied.detail["rule"] in {"role", policy.NOT_ASSISTANT}
    assert denied.detail["consultation"] == str(act.consultation.uuid)


def test_the_doctor_does_not_post_readings_as_the_assistant(act) -> None:
    _refused(act.doctor, act)


def test_a_family_guest_may_not_post_readings(personas, act) -> None:
    new = invite(personas, act.consultation)
    guest = act.consultation.participants.get(role=ParticipantRole.FAMILY)
    assert new is not None
    _refused(Visitor(guest=guest.uuid), act)


def test_a_guest_assistant_without_an_account_may_not_post_readings(personas, act) -> None:
    invite(personas, act.consultation, role=ParticipantRole.ASSISTANT, name="Aide")
    guest = act.consultation.participants.get(role=ParticipantRole.ASSISTANT, user__isnull=True)
    _refused(Visitor(guest=guest.uuid), act)


def test_the_assistant_of_another_act_may_not_post_in_this_one(personas, act) -> None:
    other = actions.open_consultation(
        personas.treating_doctor.user, personas.patient, personas.treating_doctor, reason="Suivi"
    )
    # The nurse assists in the first act, not in this other one: her seat there is refused.
    with pytest.raises(ConsultationNotFound):
        room.send_reading(policy.Seat(other, act.nurse, act.nurse_visitor), cuff())
    assert not Observation.objects.exists()


def test_the_assistant_not_yet_admitted_may_not_post(personas, consultation) -> None:
    add_nurse(personas, consultation)
    visitor = Visitor(user=personas.nurse.user)
    place = consultation.participants.get(role=ParticipantRole.ASSISTANT)
    with pytest.raises(ConsultationNotFound):
        room.send_reading(policy.Seat(consultation, place, visitor), cuff())


def test_the_doctor_adds_the_nurse_by_rpps_and_her_dedicated_site_is_the_place(
    personas, consultation
) -> None:
    url = f"/teleconsultation/{consultation.uuid}/assistance/"
    patient = client_for(personas.patient_user)
    assert patient.post(url, {"rpps": personas.nurse.rpps, "act_code": "TLL"}).status_code == 404
    doctor = client_for(personas.treating_doctor.user)
    page = doctor.post(url, {"rpps": "123", "act_code": "TLL"}, follow=True).content.decode()
    assert "Un numéro RPPS comporte 11 chiffres" in page
    added = doctor.post(url, {"rpps": personas.nurse.rpps, "act_code": "TLL"}, follow=True)
    assert "participe à l’acte aux côtés du patient" in added.content.decode()
    assistance = Assistance.objects.get()
    assert assistance.place == personas.mobile_unit and assistance.act_code == "TLL"
    again = doctor.post(url, {"rpps": personas.nurse.rpps, "act_code": "TLD"}, follow=True)
    assert "participe déjà" in again.content.decode()
    assert Assistance.objects.count() == 1


def test_the_assistant_s_page_opened_after_the_request_shows_it(personas, act) -> None:
    room.ask(policy.take_seat(act.doctor, act.consultation.uuid), "spo2")
    page = client_for(personas.nurse.user).get(f"/teleconsultation/{act.consultation.uuid}/")
    text = page.content.decode()
    assert '"kind": "spo2"' in text and "Main chaude, ongle sans vernis" in text
    assert "Connecter le tensiomètre" in text
    # The patient's page has no reading panel.
    patient = client_for(personas.patient_user).get(f"/teleconsultation/{act.consultation.uuid}/")
    assert "data-assisted" not in patient.content.decode()
