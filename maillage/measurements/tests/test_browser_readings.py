"""The record's table of readings in a real browser: axe-core clean, phone width, the mark."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from maillage.measurements import actions
from maillage.measurements.tests.conftest import blood_pressure, spo2
from maillage.teleconsult import actions as teleconsult
from maillage.teleconsult.models import Modality, Participant, ParticipantRole
from maillage.testing import factories as f
from maillage.testing.browser import (
    PHONE,
    assert_fits,
    check_accessibility,
    confirmed_device,
    sign_in,
)

pytestmark = pytest.mark.browser


def test_the_doctor_reads_the_table_and_marks_a_reading(page: Page, personas) -> None:
    act = teleconsult.open_consultation(
        personas.treating_doctor.user,
        personas.patient,
        personas.treating_doctor,
        modality=Modality.ASSISTED,
    )
    nurse = personas.nurse.user
    Participant.objects.create(
        consultation=act,
        user=nurse,
        display_name=nurse.display_name,
        role=ParticipantRole.ASSISTANT,
    )
    actions.record_observation(nurse, personas.patient, blood_pressure(encounter=act.uuid))
    actions.record_observation(nurse, personas.patient, spo2("93", encounter=act.uuid))
    sign_in(
        page,
        "medecin.traitant",
        f.PASSWORD,
        totp_key=confirmed_device(personas.treating_doctor.user),
    )
    page.goto(f"/dossier/{personas.patient.uuid}/")
    table = page.get_by_role("table")
    expect(page.get_by_role("heading", name="Mesures récentes")).to_be_visible()
    expect(table.get_by_role("cell", name="142/88 mmHg")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Marquer « Pression artérielle » comme significative").click()
    expect(
        page.get_by_role("button", name="Retirer la marque de « Pression artérielle »")
    ).to_be_visible()
    check_accessibility(page)
    assert_fits(page, PHONE)
