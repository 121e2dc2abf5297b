from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from maillage.accounts.actions import revoke_api_token
from maillage.accounts.models import ApiToken
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import BASE, issues
from maillage.testing import factories


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


def test_a_revoked_token_is_refused_at_once_and_no_read_asks_for_a_write(api, personas):
    # Nothing about a token is kept between requests: the next call after the
    # revocation reads it again and is refused.
    token = api.token(personas.treating_doctor)
    path = f"Patient/{personas.patient.uuid}"
    assert api.get(path, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert api.get(path, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    # last_used_at was written by the first call, not again within the minute.
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert not [sql for sql in writes if '"accounts_apitoken"' in sql]

    held = ApiToken.objects.get()
    assert revoke_api_token(held, by=held.user)
    response = api.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401
    assert AuditEntry.objects.filter(action=Action.PATIENT_READ).count() == 2


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


def _professional_lookups(queries: list[dict[str, str]]) -> list[str]:
    return [q["sql"] for q in queries if 'FROM "directory_professional"' in q["sql"]]


def test_the_token_check_brings_the_directory_entry_the_policy_needs(api, personas):
    # The token's query fetches its holder's directory entry; the policy
    # reuses it instead of asking again. The read itself is unchanged: the
    # médecin traitant reads, on the right basis, and it is audited.
    api.token(personas.treating_doctor)
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"Patient/{personas.patient.uuid}", personas.treating_doctor)

    assert response.status_code == 200
    assert _professional_lookups(queries.captured_queries) == []
    token_query = next(
        q["sql"] for q in queries.captured_queries if "accounts_apitoken" in q["sql"]
    )
    assert "directory_professional" in token_query
    entry = AuditEntry.objects.get(action=Action.PATIENT_READ)
    assert entry.basis == "treating_doctor"
    assert entry.actor_id == personas.treating_doctor.user_id


def test_a_token_holder_without_a_directory_entry_is_not_taken_for_a_professional(api, personas):
    # No directory entry joined (NULL) must mean "not a professional", not an
    # unknown to look up again, nor someone else's entry: the patient reads
    # only herself and a stranger's record stays refused.
    other = factories.patient(birth_name="AUTRE", first_name="Odile")
    own = api.get(f"Patient/{personas.patient.uuid}", personas.patient_user)
    with CaptureQueriesContext(connection) as queries:
        refused = api.get(f"Patient/{other.uuid}", personas.patient_user)

    assert own.status_code == 200
    assert refused.status_code == 404
    assert _professional_lookups(queries.captured_queries) == []
    granted = AuditEntry.objects.get(action=Action.PATIENT_READ, patient=personas.patient)
    assert (granted.outcome, granted.basis) == (Outcome.GRANTED, "self")
    denied = AuditEntry.objects.get(action=Action.PATIENT_READ, patient=other)
    assert denied.outcome == Outcome.DENIED
