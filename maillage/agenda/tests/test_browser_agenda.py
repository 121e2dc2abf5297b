"""The agenda in a browser at phone width: the patient books a remote slot from the first free
slots; the secretary books for a patient of the house and moves it. Each page passes axe-core,
fits a phone and stays under 150 KB."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from playwright.sync_api import Page, expect

from maillage.agenda.models import Appointment, AppointmentStatus, Modality, SlotStatus
from maillage.messaging.tests.conftest import fr
from maillage.testing import factories as f
from maillage.testing.browser import (
    PHONE,
    assert_fits,
    assert_light,
    check_accessibility,
    confirmed_device,
    measure_transfer,
    screenshot,
    sign_in,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        connection.vendor == "postgresql",
        reason="pages prove nothing more on PostgreSQL (the booking race runs on both)",
    ),
]


def _checked(page: Page, name: str) -> None:
    check_accessibility(page)
    assert_fits(page, PHONE)
    screenshot(page, name)


def test_the_patient_books_a_remote_slot_from_the_first_free_slots(
    page: Page, personas: Any, agendas: Any, live_url: str
) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, "patient", f.PASSWORD)
    with measure_transfer(page) as transfer:
        page.goto("/agenda/creneaux/")
    assert_light(transfer)
    page.get_by_label(fr("remote (teleconsultation)")).check()
    page.get_by_role("button", name=fr("Search")).click()
    expect(page.get_by_role("heading", name=fr("Results"))).to_be_visible()
    _checked(page, "agenda-free-slots-phone")
    first = page.locator(".free-hit").filter(has_text="Morel").locator("a.button").first
    first.click()
    expect(page.get_by_role("heading", name=fr("Book this slot"))).to_be_visible()
    page.get_by_label(fr("remote (teleconsultation)")).check()
    page.get_by_label(fr("Reason for the appointment")).fill("Renouvellement de traitement")
    _checked(page, "agenda-book-phone")
    with measure_transfer(page) as transfer:
        page.get_by_role("button", name=fr("Book"), exact=True).click()
        expect(page.get_by_text(fr("The appointment is booked."))).to_be_visible()
    assert_light(transfer)
    _checked(page, "agenda-appointment-phone")
    appointment = Appointment.objects.get()
    assert appointment.patient == personas.patient and appointment.modality == Modality.REMOTE
    assert appointment.slot is not None and appointment.slot.status == SlotStatus.BUSY
    page.goto("/agenda/")
    expect(
        page.get_by_role("link", name=str(appointment.start.day), exact=False).first
    ).to_be_visible()
    _checked(page, "agenda-mine-phone")


def test_the_secretary_books_for_a_patient_and_moves_it(
    page: Page, personas: Any, agendas: Any, live_url: str
) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, "secretaire", f.PASSWORD, totp_key=confirmed_device(personas.coordinator))
    page.goto("/agenda/")
    page.get_by_role("link", name=fr("Week")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Morel")
    _checked(page, "agenda-week-phone")
    # A free slot of the week, booked for Mme Girard found by her name.
    page.locator(".slot-free a").first.click()
    page.get_by_label(fr("Patient's name")).fill("Girard")
    page.get_by_role("button", name=fr("Find the patient")).click()
    page.get_by_role("link", name="GIRARD", exact=False).first.click()
    expect(page.locator("strong", has_text=fr("chosen"))).to_be_visible()
    page.get_by_label(fr("in person"), exact=True).check()
    page.get_by_label(fr("Reason for the appointment")).fill("Pansement")
    _checked(page, "agenda-secretary-book-phone")
    page.get_by_role("button", name=fr("Book"), exact=True).click()
    expect(page.get_by_text(fr("The appointment is booked."))).to_be_visible()
    first = Appointment.objects.get()
    assert first.booked_by == personas.coordinator and first.modality == Modality.IN_PERSON
    # Moved to the next slot offered.
    page.get_by_label(fr("New slot")).select_option(index=1)
    page.get_by_role("button", name=fr("Move"), exact=True).click()
    expect(
        page.get_by_text(fr("The appointment is moved; the other side is told."))
    ).to_be_visible()
    _checked(page, "agenda-moved-phone")
    moved = Appointment.objects.get(status=AppointmentStatus.BOOKED)
    assert moved.moved_from_id == first.pk and moved.start != first.start
    assert Appointment.objects.get(pk=first.pk).status == AppointmentStatus.CANCELLED
    # The day view names her (the secretary's house follows her).
    page.goto(f"/agenda/{agendas.gp.uuid}/jour/?jour={moved.start.astimezone().date().isoformat()}")
    expect(page.get_by_role("link", name="GIRARD", exact=False)).to_be_visible()
    _checked(page, "agenda-day-phone")
