"""Applications are registered by an administrator in the admin, never by anyone else."""

from __future__ import annotations

from django.test import Client
from oauth2_provider.models import Application

from maillage.smart.tests.conftest import signed_in


def test_an_administrator_registers_an_app_and_binds_a_system_client(personas):
    personas.admin.is_superuser = True
    personas.admin.save(update_fields=["is_superuser"])
    admin = signed_in(Client(), personas.admin)

    assert admin.get("/admin/oauth2_provider/application/add/").status_code == 200
    assert admin.get("/admin/smart/systemclient/add/").status_code == 200


def test_nobody_else_reaches_the_registration(personas):
    doctor = signed_in(Client(), personas.treating_doctor.user)

    response = doctor.get("/admin/oauth2_provider/application/add/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert not Application.objects.exists()
