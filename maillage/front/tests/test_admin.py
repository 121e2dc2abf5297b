"""The administrator manages structures and accounts; patient data is not in the admin."""

from __future__ import annotations

import pytest
from django.contrib import admin

from maillage.audit.models import AuditEntry
from maillage.front.tests.test_home import signed_in
from maillage.patients.models import Patient


def test_patient_data_is_not_registered_in_the_admin() -> None:
    from maillage.messaging.models import Message, Thread
    from maillage.records.models import BreakGlassAccess, Consent, Document

    for model in (Patient, AuditEntry, Document, Consent, BreakGlassAccess, Thread, Message):
        assert model not in admin.site._registry, model


@pytest.mark.django_db
def test_the_administrator_edits_the_habilitation_matrix(personas) -> None:
    from maillage.records.models import HabilitationRule
    from maillage.testing.factories import ensure_habilitations

    ensure_habilitations()
    personas.admin.is_superuser = True
    personas.admin.save(update_fields=["is_superuser"])
    client = signed_in(personas.admin)
    rule = HabilitationRule.objects.get(role="pharmacist", document_type="prescription")
    page = client.get(f"/admin/records/habilitationrule/{rule.pk}/change/")
    assert page.status_code == 200
    response = client.post(
        f"/admin/records/habilitationrule/{rule.pk}/change/",
        {"role": "pharmacist", "document_type": "prescription", "can_read": "", "can_write": ""},
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert not rule.can_read


@pytest.mark.django_db
def test_the_admin_pages_open_for_the_administrator(personas) -> None:
    personas.admin.is_superuser = True
    personas.admin.save(update_fields=["is_superuser"])
    client = signed_in(personas.admin)
    for url in [
        "/admin/",
        "/admin/directory/structure/",
        "/admin/directory/professional/",
        f"/admin/directory/structure/{personas.msp.pk}/change/",
        "/admin/accounts/user/",
        "/admin/territory/commune/?q=sancoins",
    ]:
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/patients/patient/").status_code == 404


@pytest.mark.django_db
def test_the_admin_needs_the_second_factor(personas) -> None:
    from django.test import Client

    client = Client()
    client.force_login(personas.admin)
    response = client.get("/admin/")
    assert response.status_code == 302 and "second-facteur" in response["Location"]
