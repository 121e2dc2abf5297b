"""The owner lists the apps he authorized and revokes one."""

from __future__ import annotations

from django.test import Client
from oauth2_provider.models import AccessToken, RefreshToken

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import BASE
from maillage.smart.testing import public_app
from maillage.smart.tests.conftest import launch, signed_in


def test_it_lists_the_apps_with_what_each_may_do(client, personas, app):
    launch(client, personas.patient_user, app).token("patient/Patient.rs offline_access")

    page = client.get("/applications/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "Carnet de santé" in text
    assert "Lire, rechercher : les identités (Patient) de votre dossier seulement." in text
    assert "jusqu'à ce que vous la révoquiez" in text


def test_revoking_ends_the_access_at_once(client, personas, app):
    token = launch(client, personas.patient_user, app).token("patient/*.rs offline_access")

    response = client.post(f"/applications/{app.client_id}/revoquer/")

    assert response.status_code == 302
    assert not AccessToken.objects.filter(user=personas.patient_user).exists()
    assert not RefreshToken.objects.filter(user=personas.patient_user, revoked__isnull=True)
    read = Client().get(
        f"{BASE}/Patient/{personas.patient.uuid}",
        HTTP_AUTHORIZATION=f"Bearer {token['access_token']}",
    )
    assert read.status_code == 401
    entry = AuditEntry.objects.get(action=Action.APP_REVOKED)
    assert entry.outcome == Outcome.GRANTED
    assert entry.actor == personas.patient_user
    assert "Carnet de santé" not in client.get("/applications/").content.decode()


def test_nobody_revokes_the_app_of_another(client, personas, app):
    launch(Client(), personas.patient_user, app).token("patient/*.rs")
    other = signed_in(client, personas.treating_doctor.user)

    response = other.post(f"/applications/{app.client_id}/revoquer/")

    assert response.status_code == 404
    assert AccessToken.objects.filter(user=personas.patient_user).count() == 1
    assert AuditEntry.objects.get(action=Action.APP_REVOKED).outcome == Outcome.FAILED


def test_an_unknown_app_is_not_found(client, personas):
    signed_in(client, personas.patient_user)

    assert client.post("/applications/inconnue/revoquer/").status_code == 404


def test_the_page_needs_the_second_factor(client, personas, app):
    client.force_login(personas.treating_doctor.user)

    response = client.get("/applications/")

    assert response.status_code == 302
    assert response["Location"].startswith("/comptes/second-facteur/")


def test_it_lists_only_the_owner_apps(client, personas, app):
    launch(Client(), personas.patient_user, public_app("Autre appli")).token("patient/*.rs")
    signed_in(client, personas.treating_doctor.user)

    assert "Autre appli" not in client.get("/applications/").content.decode()


def test_the_home_page_leads_to_it(client, personas):
    signed_in(client, personas.patient_user)

    home = client.get("/").content.decode()

    assert 'href="/applications/"' in home
    assert "Mes applications" in home
