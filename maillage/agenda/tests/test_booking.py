"""Booking through the one policy: who may book for whom, where; one audit entry each."""

from __future__ import annotations

from typing import Any

import pytest

from maillage.agenda import actions
from maillage.agenda.models import Appointment, AppointmentStatus, Modality, Slot, SlotStatus
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.policy.agenda import AppointmentNotFound
from maillage.policy.relations import IdentityEvidence
from maillage.tasks.models import OutgoingMail

pytestmark = pytest.mark.django_db


def _booking(slot: Slot, patient: Any, modality: str = Modality.REMOTE) -> actions.Booking:
    return actions.Booking(slot.uuid, patient.uuid, modality, "Renouvellement d'ordonnance")


def test_the_patient_books_a_remote_slot_for_herself(personas: Any, agendas: Any) -> None:
    slot = agendas.free(agendas.gp)
    appointment = actions.book(personas.patient_user, _booking(slot, personas.patient))

    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.modality == Modality.REMOTE
    assert appointment.professional == personas.treating_doctor
    assert appointment.structure == personas.msp
    assert appointment.booked_by == personas.patient_user
    assert Slot.objects.get(pk=slot.pk).status == SlotStatus.BUSY
    entries = AuditEntry.objects.filter(action=Action.APPOINTMENT_BOOK, patient=personas.patient)
    assert [(e.outcome, e.basis) for e in entries] == [(Outcome.GRANTED, "self")]
    # The doctor is told (the other side), decided by the policy and audited on her account.
    told = AuditEntry.objects.get(action=Action.APPOINTMENT_RECEIVE, outcome=Outcome.GRANTED)
    assert told.actor == personas.treating_doctor.user
    mail = OutgoingMail.objects.get(user=personas.treating_doctor.user)
    assert "Renouvellement" not in mail.body and "GIRARD" not in mail.body


def test_the_secretary_books_in_her_house_for_a_patient_it_follows(
    personas: Any, agendas: Any
) -> None:
    slot = agendas.free(agendas.gp)
    appointment = actions.book(
        personas.coordinator, _booking(slot, personas.patient, Modality.IN_PERSON)
    )
    assert appointment.booked_by == personas.coordinator
    assert appointment.modality == Modality.IN_PERSON
    # Both the patient and the doctor are told.
    receivers = set(
        AuditEntry.objects.filter(action=Action.APPOINTMENT_RECEIVE).values_list(
            "actor_id", flat=True
        )
    )
    assert receivers == {personas.patient_user.pk, personas.treating_doctor.user.pk}


def test_a_secretary_of_another_house_may_not_book(personas: Any, agendas: Any) -> None:
    slot = agendas.free(agendas.gp)
    with pytest.raises(AppointmentNotFound):
        actions.book(personas.stranger_coordinator, _booking(slot, personas.patient))
    assert Slot.objects.get(pk=slot.pk).status == SlotStatus.FREE
    entry = AuditEntry.objects.get(action=Action.APPOINTMENT_BOOK)
    assert (entry.outcome, entry.detail["rule"]) == (Outcome.DENIED, "relation")


def test_the_secretary_may_not_book_in_an_agenda_outside_her_house(
    personas: Any, agendas: Any
) -> None:
    slot = agendas.free(agendas.cardiology)
    with pytest.raises(AppointmentNotFound):
        actions.book(personas.coordinator, _booking(slot, personas.patient))
    entry = AuditEntry.objects.get(action=Action.APPOINTMENT_BOOK)
    assert (entry.outcome, entry.detail["rule"]) == (Outcome.DENIED, "agenda")


def test_a_patient_may_not_book_for_another_patient(personas: Any, agendas: Any) -> None:
    from maillage.accounts.models import Role
    from maillage.testing import factories as f

    other_user = f.user("autre.patient", Role.PATIENT)
    f.patient("DURAND", "Paul", user=other_user)
    slot = agendas.free(agendas.gp)
    with pytest.raises(AppointmentNotFound):
        actions.book(other_user, _booking(slot, personas.patient))
    assert not Appointment.objects.exists()
    entry = AuditEntry.objects.get(action=Action.APPOINTMENT_BOOK)
    assert entry.outcome == Outcome.DENIED and entry.patient == personas.patient


def test_the_regulator_books_only_with_an_open_case(personas: Any, agendas: Any) -> None:
    from maillage.regulation import actions as regulation

    slot = agendas.free(agendas.gp)
    with pytest.raises(AppointmentNotFound):
        actions.book(personas.regulator, _booking(slot, personas.patient))
    evidence = IdentityEvidence(personas.patient.match_key, personas.patient.ins_matricule)
    regulation.open_case(personas.regulator, evidence, "Douleur thoracique", 24)
    appointment = actions.book(personas.regulator, _booking(slot, personas.patient))
    assert appointment.booked_by == personas.regulator


def test_a_modality_the_slot_does_not_offer_is_refused_on_the_form(
    personas: Any, agendas: Any
) -> None:
    slot = agendas.free(agendas.cardiology)  # remote only
    with pytest.raises(actions.BookingRefused) as refused:
        actions.book(
            personas.treating_doctor.user, _booking(slot, personas.patient, Modality.IN_PERSON)
        )
    assert refused.value.field == "modality"
    entry = AuditEntry.objects.get(action=Action.APPOINTMENT_BOOK)
    assert (entry.outcome, entry.detail["failure"]) == (Outcome.FAILED, "modality_not_offered")


def test_a_booked_slot_is_not_booked_twice(personas: Any, agendas: Any) -> None:
    slot = agendas.free(agendas.gp)
    actions.book(personas.patient_user, _booking(slot, personas.patient))
    with pytest.raises(actions.BookingRefused):
        actions.book(personas.coordinator, _booking(slot, personas.patient))
    assert Appointment.objects.count() == 1


def test_cancel_frees_the_slot_and_tells_the_other_side(personas: Any, agendas: Any) -> None:
    slot = agendas.free(agendas.gp)
    appointment = actions.book(personas.coordinator, _booking(slot, personas.patient))
    actions.cancel(personas.patient_user, appointment.uuid, "Empêchement")
    stored = Appointment.objects.get(pk=appointment.pk)
    assert stored.status == AppointmentStatus.CANCELLED
    assert stored.cancelled_by == personas.patient_user
    assert Slot.objects.get(pk=slot.pk).status == SlotStatus.FREE
    # The slot can be booked again.
    again = actions.book(personas.patient_user, _booking(slot, personas.patient))
    assert again.slot_id == slot.pk


def test_a_stranger_cannot_cancel(personas: Any, agendas: Any) -> None:
    slot = agendas.free(agendas.gp)
    appointment = actions.book(personas.patient_user, _booking(slot, personas.patient))
    for user in (personas.stranger_coordinator, personas.cardiologist.user, personas.analyst):
        with pytest.raises(AppointmentNotFound):
            actions.cancel(user, appointment.uuid)
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.BOOKED
    refused = AuditEntry.objects.filter(action=Action.APPOINTMENT_WRITE, outcome=Outcome.DENIED)
    assert refused.count() == 3


def test_the_secretary_moves_an_appointment(personas: Any, agendas: Any) -> None:
    first = agendas.free(agendas.gp)
    appointment = actions.book(personas.coordinator, _booking(first, personas.patient))
    second = agendas.free(agendas.gp)
    moved = actions.move(personas.coordinator, appointment.uuid, second.uuid)
    assert moved.moved_from_id == appointment.pk and moved.slot_id == second.pk
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.CANCELLED
    assert Slot.objects.get(pk=first.pk).status == SlotStatus.FREE
    assert Slot.objects.get(pk=second.pk).status == SlotStatus.BUSY
    assert moved.reason == appointment.reason and moved.modality == appointment.modality


def test_moving_to_another_professionals_agenda_is_refused(personas: Any, agendas: Any) -> None:
    first = agendas.free(agendas.gp)
    appointment = actions.book(personas.treating_doctor.user, _booking(first, personas.patient))
    elsewhere = agendas.free(agendas.cardiology)
    with pytest.raises(actions.BookingRefused):
        actions.move(personas.treating_doctor.user, appointment.uuid, elsewhere.uuid)
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.BOOKED
    assert Slot.objects.get(pk=first.pk).status == SlotStatus.BUSY
    assert Slot.objects.get(pk=elsewhere.pk).status == SlotStatus.FREE
