from __future__ import annotations

from django.test import Client
from django.utils import timezone

from maillage.accounts.models import ApiToken
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import BASE, issues


def test_it_answers_401_without_a_token(api, personas):
    response = api.get(f"Patient/{personas.patient.uuid}")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="maillage"'
    assert issues(response)[0]["code"] == "login"
    assert not AuditEntry.objects.filter(action=Action.PATIENT_READ).exists()


def test_it_answers_401_to_an_unknown_token_and_audits_it(api, personas):
    response = api.get(
        f"Patient/{personas.patient.uuid}", HTTP_AUTHORIZATION="Bearer mlg_not-a-token"
    )

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert issues(response)[0]["code"] == "login"
    rejected = AuditEntry.objects.get(action=Action.TOKEN_REJECTED)
    assert rejected.outcome == Outcome.DENIED
    assert rejected.channel == "fhir"
    assert not AuditEntry.objects.filter(action=Action.PATIENT_READ).exists()


def test_it_answers_401_to_a_revoked_token(api, personas):
    token = api.token(personas.treating_doctor)
    ApiToken.objects.update(revoked_at=timezone.now())

    response = api.get(f"Patient/{personas.patient.uuid}", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401


def test_it_answers_401_to_the_token_of_a_deactivated_account(api, personas):
    token = api.token(personas.treating_doctor)
    user = personas.treating_doctor.user
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = api.get(f"Patient/{personas.patient.uuid}", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401


def test_it_answers_401_to_another_scheme(api, personas):
    response = api.get("Practitioner", HTTP_AUTHORIZATION="Basic bWVkZWNpbjpzZWNyZXQ=")

    assert response.status_code == 401


def test_it_does_not_accept_a_session_cookie(api, personas):
    api.client.force_login(personas.treating_doctor.user)

    response = api.get(f"Patient/{personas.patient.uuid}")

    assert response.status_code == 401
    assert not AuditEntry.objects.filter(action=Action.PATIENT_READ).exists()


def test_it_is_exempt_from_csrf(api, personas):
    strict = Client(enforce_csrf_checks=True)
    token = api.token(personas.treating_doctor)

    response = strict.post(
        f"{BASE}/Patient",
        "{}",
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    # Reaches the handler: the body is refused, not the missing CSRF token.
    assert response.status_code == 400
