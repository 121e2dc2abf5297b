"""The agenda's pages over HTTP: who sees what, what is audited, bad input answered plainly."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from maillage.agenda import actions, ical
from maillage.agenda.models import Appointment, AppointmentStatus, FeedDetail, Modality, SlotStatus
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.front.tests.test_home import signed_in
from maillage.testing import factories as f

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    return signed_in(user)


def _booked(personas: Any, agendas: Any, modality: str = Modality.REMOTE) -> Appointment:
    slot = agendas.free(agendas.gp)
    return actions.book(
        personas.coordinator,
        actions.Booking(slot.uuid, personas.patient.uuid, modality, "Suivi tension"),
    )


def test_the_patient_finds_remote_slots_and_books_one(personas: Any, agendas: Any) -> None:
    client = _client(personas.patient_user)
    page = client.get("/agenda/creneaux/", {"modality": "remote", "specialty": ""})
    assert page.status_code == 200
    slot = agendas.free(agendas.gp)
    assert f"/agenda/reserver/{slot.uuid}/" in page.content.decode()
    assert len(page.content) < 150_000
    form = client.get(f"/agenda/reserver/{slot.uuid}/")
    assert form.status_code == 200
    done = client.post(
        f"/agenda/reserver/{slot.uuid}/", {"modality": "remote", "reason": "Toux depuis 10 jours"}
    )
    assert done.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.patient == personas.patient and appointment.modality == Modality.REMOTE
    detail = client.get(done["Location"])
    assert "Toux depuis 10 jours" in detail.content.decode()
    # A remote appointment leads to its teleconsultation (the room makes the act).
    assert f"/teleconsultation/rendez-vous/{appointment.uuid}/" in detail.content.decode()
    # Its billing facts at booking (acts): her médecin traitant, the coordinated pathway.
    assert "Facturation de la téléconsultation" in detail.content.decode()


def test_a_booking_without_a_reason_is_answered_on_the_form(personas: Any, agendas: Any) -> None:
    client = _client(personas.patient_user)
    slot = agendas.free(agendas.gp)
    page = client.post(f"/agenda/reserver/{slot.uuid}/", {"modality": "remote", "reason": ""})
    assert page.status_code == 400
    assert not Appointment.objects.exists()
    missing = client.get("/agenda/reserver/00000000-0000-0000-0000-000000000000/")
    assert missing.status_code == 404


def test_the_day_view_names_the_patient_and_audits_it(personas: Any, agendas: Any) -> None:
    appointment = _booked(personas, agendas)
    day = appointment.start.astimezone().date().isoformat()
    client = _client(personas.coordinator)
    page = client.get(f"/agenda/{agendas.gp.uuid}/jour/", {"jour": day})
    assert page.status_code == 200
    assert "GIRARD" in page.content.decode().upper()
    listed = AuditEntry.objects.filter(
        action=Action.APPOINTMENT_READ, actor=personas.coordinator, patient=personas.patient
    )
    assert listed.count() == 1 and listed.get().detail["listed"] == [str(appointment.uuid)]
    week = client.get(f"/agenda/{agendas.gp.uuid}/semaine/", {"jour": day})
    assert week.status_code == 200 and len(week.content) < 150_000
    # The whole house's day: every agenda of the MSP, the patient named once more (audited).
    house = client.get(f"/agenda/maison/{personas.msp.uuid}/jour/", {"jour": day})
    assert house.status_code == 200 and "GIRARD" in house.content.decode().upper()
    assert len(house.content) < 150_000
    assert listed.count() == 3  # the day, the week, the house: one entry each
    stranger = _client(personas.stranger_coordinator)
    assert stranger.get(f"/agenda/maison/{personas.msp.uuid}/jour/").status_code == 404


def test_a_secretary_of_another_house_sees_no_agenda_of_this_one(
    personas: Any, agendas: Any
) -> None:
    _booked(personas, agendas)
    client = _client(personas.stranger_coordinator)
    assert client.get(f"/agenda/{agendas.gp.uuid}/jour/").status_code == 404
    assert client.get(f"/agenda/{agendas.gp.uuid}/regles/").status_code == 404
    appointment = Appointment.objects.get()
    assert client.get(f"/agenda/rendez-vous/{appointment.uuid}/").status_code == 404
    refused = AuditEntry.objects.get(action=Action.APPOINTMENT_READ, outcome=Outcome.DENIED)
    assert refused.actor == personas.stranger_coordinator


def test_the_secretary_moves_an_appointment_from_its_page(personas: Any, agendas: Any) -> None:
    appointment = _booked(personas, agendas)
    client = _client(personas.coordinator)
    page = client.get(f"/agenda/rendez-vous/{appointment.uuid}/")
    assert page.status_code == 200
    target = agendas.free(agendas.gp)
    moved = client.post(f"/agenda/rendez-vous/{appointment.uuid}/deplacer/", {"slot": target.uuid})
    assert moved.status_code == 302
    new = Appointment.objects.get(status=AppointmentStatus.BOOKED)
    assert new.slot == target and new.moved_from_id == appointment.pk
    bad = client.post(f"/agenda/rendez-vous/{new.uuid}/deplacer/", {"slot": "pas-un-uuid"})
    assert bad.status_code == 404


def test_the_secretary_adds_a_rule_and_an_absence(personas: Any, agendas: Any) -> None:
    client = _client(personas.coordinator)
    url = f"/agenda/{agendas.gp.uuid}/regles/"
    wrong = client.post(
        url,
        {
            "rule-weekday": "1",
            "rule-start_time": "14:00",
            "rule-end_time": "12:00",
            "rule-slot_minutes": "15",
            "rule-modality": "remote",
        },
    )
    assert wrong.status_code == 400
    assert "après" in wrong.content.decode() or "after" in wrong.content.decode()
    # Hours crossing an existing availability of the same doctor (8:00 to 18:00 every day).
    tomorrow = str((timezone.localdate() + dt.timedelta(days=1)).weekday())
    crossing = client.post(
        url,
        {
            "rule-weekday": tomorrow,
            "rule-start_time": "17:00",
            "rule-end_time": "19:00",
            "rule-slot_minutes": "15",
            "rule-modality": "remote",
        },
    )
    assert crossing.status_code == 400
    assert agendas.gp.rules.filter(start_time="17:00").count() == 0
    added = client.post(
        url,
        {
            "rule-weekday": tomorrow,
            "rule-start_time": "18:00",
            "rule-end_time": "19:00",
            "rule-slot_minutes": "15",
            "rule-modality": "remote",
        },
    )
    assert added.status_code == 302
    assert agendas.gp.slots.filter(rule__start_time="18:00").exists()
    appointment = _booked(personas, agendas)
    start = appointment.start.astimezone()
    page = client.post(
        url,
        {
            "absence-start": start.strftime("%Y-%m-%dT%H:%M"),
            "absence-end": (start.replace(hour=23, minute=0)).strftime("%Y-%m-%dT%H:%M"),
            "absence-label": "Formation",
        },
    )
    assert page.status_code == 200
    assert f"/agenda/rendez-vous/{appointment.uuid}/" in page.content.decode()


def test_the_calendar_feed_needs_its_token_and_names_no_one_by_default(
    personas: Any, agendas: Any
) -> None:
    appointment = _booked(personas, agendas)
    doctor = personas.treating_doctor
    token = ical.new_token(doctor)
    anonymous = Client()
    feed = anonymous.get(f"/agenda/ical/{token}.ics")
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    text = feed.content.decode()
    assert f"UID:{appointment.uuid}@maillage" in text
    assert "GIRARD" not in text.upper() and "Suivi" not in text
    assert anonymous.get("/agenda/ical/wrong-token.ics").status_code == 404
    # Names, once chosen: decided by the policy and audited on the doctor's account.
    doctor.calendar_feed.detail = FeedDetail.NAMES
    doctor.calendar_feed.save()
    named = anonymous.get(f"/agenda/ical/{token}.ics").content.decode()
    assert "GIRARD" in named.upper() and "Suivi" not in named
    entry = AuditEntry.objects.get(action=Action.APPOINTMENT_READ, actor=doctor.user)
    assert entry.patient == personas.patient
    # A new token revokes the old one; revoking stops the feed.
    second = ical.new_token(doctor)
    assert anonymous.get(f"/agenda/ical/{token}.ics").status_code == 404
    ical.revoke(doctor)
    assert anonymous.get(f"/agenda/ical/{second}.ics").status_code == 404


def test_the_feed_page_makes_and_revokes_an_address(personas: Any, agendas: Any) -> None:
    client = _client(personas.treating_doctor.user)
    page = client.post("/agenda/flux/", {"detail": "initials"})
    assert page.status_code == 200 and "/agenda/ical/" in page.content.decode()
    assert personas.treating_doctor.calendar_feed.detail == FeedDetail.INITIALS
    client.post("/agenda/flux/", {"revoke": "1"})
    personas.treating_doctor.calendar_feed.refresh_from_db()
    assert not personas.treating_doctor.calendar_feed.active
    # A secretary has no directory entry, so no feed of her own.
    assert _client(personas.coordinator).get("/agenda/flux/").status_code == 403


def test_an_analyst_may_not_search_slots(personas: Any, agendas: Any) -> None:
    assert _client(personas.analyst).get("/agenda/creneaux/").status_code == 403
    assert SlotStatus.FREE


def test_the_patient_lists_her_appointments(personas: Any, agendas: Any) -> None:
    appointment = _booked(personas, agendas)
    other_user = f.user("autre.patiente", "patient")
    f.patient("DURAND", "Paule", user=other_user)
    mine = _client(personas.patient_user).get("/agenda/")
    assert f"/agenda/rendez-vous/{appointment.uuid}/" in mine.content.decode()
    theirs = _client(other_user).get("/agenda/")
    assert str(appointment.uuid) not in theirs.content.decode()
    assert _client(other_user).get(f"/agenda/rendez-vous/{appointment.uuid}/").status_code == 404
