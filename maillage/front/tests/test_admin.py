"""The administrator manages structures and accounts; patient data is not in the admin."""

from __future__ import annotations

import pytest
from django.contrib import admin

from maillage.audit.models import AuditEntry
from maillage.front.tests.test_home import signed_in
from maillage.patients.models import Patient


def test_patient_data_is_not_registered_in_the_admin() -> None:
    assert Patient not in admin.site._registry
    assert AuditEntry not in admin.site._registry


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
