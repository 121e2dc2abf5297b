"""Who takes a seat in an act: its doctor and patient, invited guests once admitted; nobody else.

Each opening and each refusal leaves one audit entry on the patient.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.policy.gate import PatientNotFound, allowed
from maillage.policy.teleconsult import (
    CLOSED,
    NOT_ADMITTED,
    NOT_DOCTOR,
    NOT_PARTICIPANT,
    ConsultationNotFound,
    Visitor,
    participating,
    relay_target,
    take_seat,
)
from maillage.teleconsult import actions
from maillage.teleconsult.models import Invitation, Participant, ParticipantRole, Status
from maillage.teleconsult.tests.conftest import BIRTH, doctor_of, invite, patient_of

pytestmark = pytest.mark.django_db


def _last(action: str = Action.TELECONSULT_READ) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).order_by("-id")[0]


def test_it_opens_an_act_with_two_seats(personas, consultation) -> None:
    roles = sorted(consultation.participants.values_list("role", flat=True))
    assert roles == [ParticipantRole.DOCTOR, ParticipantRole.PATIENT]
    entry = _last(Action.TELECONSULT_OPEN)
    assert (entry.outcome, entry.patient_id, entry.basis) == (
        Outcome.GRANTED,
        personas.patient.pk,
        "treating_doctor",
    )


def test_a_doctor_without_a_link_cannot_open_one(personas) -> None:
    with pytest.raises(PatientNotFound):
        actions.open_consultation(
            personas.cardiologist.user, personas.patient, personas.cardiologist
        )
    entry = _last(Action.TELECONSULT_OPEN)
    assert (entry.outcome, entry.detail["rule"]) == (Outcome.DENIED, "relation")


def test_the_patient_and_the_doctor_take_their_seats(personas, consultation) -> None:
    seat = take_seat(patient_of(personas), consultation.uuid)
    assert seat.participant.role == ParticipantRole.PATIENT
    assert _last().basis == "self"
    seat = take_seat(doctor_of(personas), consultation.uuid, admitted=True)
    assert seat.is_doctor
    assert _last().basis == "teleconsultation"


def test_a_stranger_is_refused_and_audited(personas, consultation) -> None:
    for user in (personas.cardiologist.user, personas.nurse.user, personas.coordinator):
        with pytest.raises(ConsultationNotFound):
            take_seat(Visitor(user=user), consultation.uuid)
        entry = _last()
        assert (entry.actor_id, entry.outcome, entry.patient_id) == (
            user.pk,
            Outcome.DENIED,
            personas.patient.pk,
        )


def test_an_unknown_act_looks_like_a_refused_one(personas) -> None:
    with pytest.raises(ConsultationNotFound):
        take_seat(doctor_of(personas), "not-a-uuid")
    assert _last().detail == {"unknown_id": "not-a-uuid"}


def test_the_patient_enters_the_room_only_once_admitted(personas, consultation) -> None:
    with pytest.raises(ConsultationNotFound):
        take_seat(patient_of(personas), consultation.uuid, admitted=True)
    assert _last().detail["rule"] == NOT_ADMITTED
    seat = take_seat(patient_of(personas), consultation.uuid)
    actions.arrive(seat)
    actions.give_consent(*actions.seat_for_change(patient_of(personas), consultation.uuid))
    doctor, change = actions.seat_for_change(
        doctor_of(personas), consultation.uuid, doctor_only=True
    )
    actions.admit(doctor, change, seat.participant.uuid)
    assert take_seat(patient_of(personas), consultation.uuid, admitted=True)
    consultation.refresh_from_db()
    assert consultation.status == Status.IN_PROGRESS and consultation.started_at


def test_only_the_doctor_admits(personas, consultation) -> None:
    with pytest.raises(ConsultationNotFound):
        actions.seat_for_change(patient_of(personas), consultation.uuid, doctor_only=True)
    assert _last(Action.TELECONSULT_WRITE).detail["rule"] == NOT_DOCTOR


def test_the_relation_gives_the_doctor_nothing_once_the_act_is_long_over(
    personas, consultation, settings
) -> None:
    doctor = personas.treating_doctor.user
    assert list(participating(doctor)) == [consultation]
    actions.close(consultation, doctor)
    assert list(participating(doctor)) == [consultation]
    type(consultation).objects.filter(pk=consultation.pk).update(
        ended_at=timezone.now() - dt.timedelta(days=31)
    )
    assert list(participating(doctor)) == []
    with pytest.raises(ConsultationNotFound):
        take_seat(doctor_of(personas), consultation.uuid, admitted=True)


def test_a_closed_room_stays_closed(personas, consultation) -> None:
    actions.close(consultation, personas.treating_doctor.user)
    with pytest.raises(ConsultationNotFound):
        take_seat(doctor_of(personas), consultation.uuid, admitted=True)
    assert _last().detail["rule"] == CLOSED


def test_a_doctor_of_the_act_may_file_in_the_record(personas) -> None:
    # The cardiologist has no other link with her; the act gives him one.
    consultation = actions.create_consultation(
        personas.patient, personas.cardiologist, by=personas.patient_user
    )
    assert allowed(personas.cardiologist.user, personas.patient, Action.DOCUMENT_CREATE)
    actions.close(consultation, None)
    type(consultation).objects.filter(pk=consultation.pk).update(
        ended_at=timezone.now() - dt.timedelta(days=40)
    )
    assert not allowed(personas.cardiologist.user, personas.patient, Action.DOCUMENT_CREATE)


# --- Guests ---------------------------------------------------------------------------


def test_a_guest_redeems_her_link_once(personas, consultation) -> None:
    new = invite(personas, consultation)
    assert Invitation.objects.get().token_hash != new.token
    guest = actions.redeem(new.token, None)
    seat = take_seat(Visitor(guest=guest.uuid), consultation.uuid)
    assert seat.participant == guest
    entry = _last()
    assert (entry.actor_id, entry.basis, entry.detail["guest"]) == (
        None,
        "teleconsult_guest",
        str(guest.uuid),
    )
    with pytest.raises(actions.InvitationRefused) as refused:
        actions.redeem(new.token, None)
    assert refused.value.reason == "used"
    assert _last().detail["rule"] == "used"


def test_an_expired_or_unknown_link_opens_nothing(personas, consultation) -> None:
    new = invite(personas, consultation)
    Invitation.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(actions.InvitationRefused) as refused:
        actions.redeem(new.token, None)
    assert refused.value.reason == "expired"
    with pytest.raises(actions.InvitationRefused) as refused:
        actions.redeem("x" * 43, None)
    assert refused.value.reason == "unknown_invitation"


def test_a_patient_guest_types_her_birth_date(personas, consultation) -> None:
    new = invite(personas, consultation, role=ParticipantRole.PATIENT, name="Micheline Girard")
    with pytest.raises(actions.InvitationRefused) as refused:
        actions.redeem(new.token, dt.date(1950, 1, 1))
    assert refused.value.reason == "birth_date"
    assert Invitation.objects.get().used_at is None
    for _ in range(4):
        with pytest.raises(actions.InvitationRefused):
            actions.redeem(new.token, dt.date(1950, 1, 1))
    with pytest.raises(actions.InvitationRefused) as refused:
        actions.redeem(new.token, BIRTH)
    assert refused.value.reason == "too_many_tries"


def test_a_patient_guest_with_the_right_birth_date_comes_in(personas, consultation) -> None:
    new = invite(personas, consultation, role=ParticipantRole.PATIENT, name="Micheline Girard")
    assert actions.redeem(new.token, BIRTH).role == ParticipantRole.PATIENT


def test_a_guest_reaches_only_her_own_act(personas, consultation) -> None:
    other = actions.open_consultation(
        personas.treating_doctor.user, personas.patient, personas.treating_doctor
    )
    guest = actions.redeem(invite(personas, consultation).token, None)
    with pytest.raises(ConsultationNotFound):
        take_seat(Visitor(guest=guest.uuid), other.uuid)
    assert _last().detail["rule"] == NOT_PARTICIPANT


def test_a_guest_cannot_admit(personas, consultation) -> None:
    guest = actions.redeem(invite(personas, consultation).token, None)
    with pytest.raises(ConsultationNotFound):
        actions.seat_for_change(Visitor(guest=guest.uuid), consultation.uuid, doctor_only=True)
    assert _last(Action.TELECONSULT_WRITE).detail["rule"] == NOT_DOCTOR


def test_four_seats_at_most(personas, consultation) -> None:
    invite(personas, consultation)
    invite(personas, consultation, role=ParticipantRole.INTERPRETER, address="i@example.org")
    with pytest.raises(actions.RoomRuleBroken):
        invite(personas, consultation, address="third@example.org")
    assert Participant.objects.filter(consultation=consultation).count() == 4


# --- Signalling -------------------------------------------------------------------------


def test_signals_go_only_between_those_in_the_same_room(personas, consultation) -> None:
    patient = take_seat(patient_of(personas), consultation.uuid)
    actions.arrive(patient)
    actions.give_consent(*actions.seat_for_change(patient_of(personas), consultation.uuid))
    doctor = take_seat(doctor_of(personas), consultation.uuid)
    # Not admitted yet: nothing goes to her.
    assert relay_target(doctor, patient.participant.uuid) is None
    _seat, change = actions.seat_for_change(
        doctor_of(personas), consultation.uuid, doctor_only=True
    )
    actions.admit(doctor, change, patient.participant.uuid)
    assert relay_target(doctor, patient.participant.uuid) == Participant.objects.get(
        pk=patient.participant.pk
    )
    other = actions.open_consultation(
        personas.treating_doctor.user, personas.patient, personas.treating_doctor
    )
    stranger = other.participants.get(role=ParticipantRole.PATIENT)
    assert relay_target(doctor, stranger.uuid) is None
    entry = _last(Action.TELECONSULT_SIGNAL)
    assert (entry.outcome, entry.detail["to"]) == (Outcome.DENIED, str(stranger.uuid))


def test_the_patient_is_not_admitted_before_she_consents(personas, consultation) -> None:
    patient = take_seat(patient_of(personas), consultation.uuid)
    actions.arrive(patient)
    doctor, change = actions.seat_for_change(
        doctor_of(personas), consultation.uuid, doctor_only=True
    )
    with pytest.raises(actions.RoomRuleBroken):
        actions.admit(doctor, change, patient.participant.uuid, consent_required=True)
    entry = _last(Action.TELECONSULT_WRITE)
    assert (entry.outcome, entry.detail["failure"]) == (Outcome.FAILED, "no_consent")
    assert Participant.objects.get(pk=patient.participant.pk).admitted_at is None
