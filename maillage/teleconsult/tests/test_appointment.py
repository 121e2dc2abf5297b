"""A remote appointment leads to its act: made once, by either side; fulfilled at its end."""

from __future__ import annotations

import pytest

from maillage.agenda import actions as agenda
from maillage.agenda.models import Appointment, AppointmentStatus
from maillage.policy.agenda import AppointmentNotFound
from maillage.teleconsult import actions
from maillage.teleconsult.models import Consultation, ParticipantRole

pytestmark = pytest.mark.django_db


def _remote(personas, agendas) -> Appointment:
    return agenda.book(
        personas.patient_user,
        agenda.Booking(
            slot_uuid=agendas.free(agendas.cardiology).uuid,
            patient_uuid=personas.patient.uuid,
            modality="remote",
            reason="Palpitations",
        ),
    )


def test_the_patient_opens_the_act_of_her_remote_appointment_once(personas, agendas) -> None:
    appointment = _remote(personas, agendas)
    first = actions.for_appointment(personas.patient_user, appointment.uuid)
    again = actions.for_appointment(personas.cardiologist.user, appointment.uuid)
    assert first == again and first.appointment == appointment
    assert first.doctor == personas.cardiologist and first.reason == "Palpitations"
    roles = sorted(first.participants.values_list("role", flat=True))
    assert roles == [ParticipantRole.DOCTOR, ParticipantRole.PATIENT]
    actions.close(first, personas.cardiologist.user)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.FULFILLED


def test_a_stranger_cannot_open_it(personas, agendas) -> None:
    appointment = _remote(personas, agendas)
    with pytest.raises(AppointmentNotFound):
        actions.for_appointment(personas.nurse.user, appointment.uuid)
    assert not Consultation.objects.exists()


def test_the_appointment_page_leads_both_sides_into_the_act_by_a_form(personas, agendas) -> None:
    """The appointment's "join" is a form (it makes the act): a link's GET would be refused."""
    from maillage.teleconsult.tests.test_pages import client_for

    appointment = _remote(personas, agendas)
    page = client_for(personas.patient_user).get(f"/agenda/rendez-vous/{appointment.uuid}/")
    join = f'<form method="post" action="/teleconsultation/rendez-vous/{appointment.uuid}/"'
    assert join in page.content.decode()
    assert "Rejoindre la téléconsultation" in page.content.decode()
    patient = client_for(personas.patient_user)
    assert patient.get(f"/teleconsultation/rendez-vous/{appointment.uuid}/").status_code == 405
    assert not Consultation.objects.exists()
    went = patient.post(f"/teleconsultation/rendez-vous/{appointment.uuid}/")
    consultation = Consultation.objects.get(appointment=appointment)
    assert went.status_code == 302 and went["Location"] == f"/teleconsultation/{consultation.uuid}/"
    # Her cardiologist comes the same way, from the agenda, into the same act.
    doctor = client_for(personas.cardiologist.user)
    doctor_page = doctor.get(f"/agenda/rendez-vous/{appointment.uuid}/")
    assert join in doctor_page.content.decode()
    again = doctor.post(f"/teleconsultation/rendez-vous/{appointment.uuid}/")
    assert again["Location"] == went["Location"] and Consultation.objects.count() == 1
