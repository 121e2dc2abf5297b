"""The record page shows what a FHIR client sent beyond the identity: addresses, contacts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from maillage.audit.models import Action, AuditEntry
from maillage.fhir.tests.conftest import Api
from maillage.front.tests.test_home import signed_in
from maillage.patients.models import Patient
from maillage.testing import factories as f
from maillage.testing.browser import (
    PHONE,
    assert_fits,
    check_accessibility,
    confirmed_device,
    screenshot,
    sign_in,
)
from maillage.testing.factories import page_text

HL7_PATIENT = Path(__file__).resolve().parents[4] / "shared/data/fhir_examples/Patient-example.json"


def _created_from_fhir(client, personas) -> Patient:
    api = Api(client)
    body = json.loads(HL7_PATIENT.read_text())
    body["managingOrganization"] = {"reference": f"Organization/{personas.msp.uuid}"}
    response = api.post("Patient", body, personas.treating_doctor)
    assert response.status_code == 201
    return Patient.objects.get(uuid=response["Location"].rsplit("/", 1)[-1])


def test_it_shows_the_addresses_contacts_and_identifiers_kept(client, personas):
    patient = _created_from_fhir(client, personas)

    response = signed_in(personas.treating_doctor.user).get(f"/patients/{patient.uuid}/")

    assert response.status_code == 200
    text = page_text(response)
    assert "534 Erewhon St, 3999 PleasantVille, Rainbow, Vic" in text
    assert "Personnes à contacter" in text
    assert "du Marché Bénédicte" in text
    # The codes as a French reader knows them (N, work, MR), kept as sent in the tables.
    for words in ("proche", "téléphone, travail", "téléphone, portable", "téléphone, plus utilisé"):
        assert f'<span class="meta">({words})</span>' in text
    assert '12345 <span class="meta">(numéro de dossier médical)</span>' in text
    assert "+33 (237) 998327" in text
    assert "Identifiants d'autres systèmes" in text
    assert "12345" in text
    assert "Organisation de rattachement" in text
    assert personas.msp.name in text
    # Shown through the gate: one audited read of the identity.
    entry = AuditEntry.objects.filter(action=Action.PATIENT_READ, patient=patient).latest("pk")
    assert entry.actor == personas.treating_doctor.user


def test_a_stranger_sees_none_of_it(client, personas):
    patient = _created_from_fhir(client, personas)

    response = signed_in(personas.cardiologist.user).get(f"/patients/{patient.uuid}/")

    assert response.status_code == 404
    assert "Erewhon" not in page_text(response)


@pytest.mark.browser
def test_a_doctor_reads_them_on_a_phone(page: Page, personas) -> None:
    patient = _created_from_fhir(Client(), personas)
    sign_in(
        page,
        "medecin.traitant",
        f.PASSWORD,
        totp_key=confirmed_device(personas.treating_doctor.user),
    )
    page.set_viewport_size(PHONE)

    page.goto(f"/patients/{patient.uuid}/")

    expect(
        page.get_by_text("534 Erewhon St, 3999 PleasantVille, Rainbow, Vic", exact=True)
    ).to_be_visible()
    expect(page.get_by_text("Personnes à contacter")).to_be_visible()
    expect(page.get_by_text("Identifiants d'autres systèmes")).to_be_visible()
    check_accessibility(page)
    assert_fits(page, PHONE)
    screenshot(page, "record-kept-details-phone")
