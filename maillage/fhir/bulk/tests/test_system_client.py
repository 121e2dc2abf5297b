"""$export by a SMART system client (client credentials): its account's rights, narrowed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B.patient import Patient

from maillage.accounts.models import Role, User
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.bulk.models import ExportJob
from maillage.fhir.bulk.tests.conftest import KICK_OFF, NDJSON, Territory, file_path, ids
from maillage.fhir.tests.conftest import issues
from maillage.smart.testing import system_app
from maillage.testing import factories as f

pytestmark = pytest.mark.django_db


def client_token(scope: str, territory: Territory) -> dict[str, str]:
    """A client-credentials token for a warehouse acting as a secretary account of the MSP."""
    account = f.user("entrepot.msp", Role.COORDINATOR)
    account.structures.add(territory.personas.msp)
    app = system_app(account)
    response = Client().post(
        "/o/token/",
        {
            "grant_type": "client_credentials",
            "client_id": app.application.client_id,
            "client_secret": app.secret,
            "scope": scope,
        },
    )
    assert response.status_code == 200, response.content
    return {"HTTP_AUTHORIZATION": f"Bearer {json.loads(response.content)['access_token']}"}


def _get(path: str, bearer: dict[str, str], **extra: Any) -> Any:
    headers: dict[str, Any] = {**bearer, **extra}
    return Client().get(f"/fhir/r4/{path}", **headers)


def test_a_system_client_exports_the_territory_its_account_may_read(
    territory, django_capture_on_commit_callbacks
):
    bearer = client_token("system/*.rs", territory)
    with django_capture_on_commit_callbacks(execute=True):
        kicked = _get("$export", bearer, **KICK_OFF)
    assert kicked.status_code == 202, kicked.content
    status = kicked["Content-Location"].split("/fhir/r4/", 1)[1]
    done = _get(status, bearer, HTTP_ACCEPT="application/json")
    assert done.status_code == 200
    output = json.loads(done.content)["output"]
    # A secretary's account: identities of the MSP's patients, no record.
    assert [o["type"] for o in output] == ["Patient"]
    lines = _get(file_path(output[0]["url"]), bearer, HTTP_ACCEPT=NDJSON).content.splitlines()
    patients = [Patient.model_validate_json(line) for line in lines]
    assert len(patients) == output[0]["count"]
    assert ids([{"id": p.id} for p in patients]) == {
        str(territory.girard.uuid),
        str(territory.durand.uuid),
    }
    entries = AuditEntry.objects.filter(action=Action.BULK_EXPORT, patient__isnull=False)
    assert {e.actor_label for e in entries} == {entries[0].actor_label}
    assert {e.actor_id for e in entries} == {User.objects.get(username="entrepot.msp").pk}


def test_scopes_narrow_an_export_and_never_widen_it(territory, django_capture_on_commit_callbacks):
    bearer = client_token("system/Patient.rs", territory)
    # The system-level kick-off names no type: it needs a scope on every type.
    refused = _get("$export", bearer, **KICK_OFF)
    assert refused.status_code == 403
    assert "insufficient_scope" in refused["WWW-Authenticate"]
    # A type asked for outside the scopes: refused, audited.
    asked = _get("Patient/$export?_type=DocumentReference", bearer, **KICK_OFF)
    assert asked.status_code == 403
    assert "autorisations" in issues(asked)[0]["diagnostics"]
    entry = AuditEntry.objects.filter(action=Action.SCOPE_REFUSED).latest("seq")
    assert entry.outcome == Outcome.DENIED
    assert entry.detail["fhir"] == "DocumentReference"
    # Unasked, the types outside the scopes are left out.
    with django_capture_on_commit_callbacks(execute=True):
        kicked = _get("Patient/$export", bearer, **KICK_OFF)
    assert kicked.status_code == 202
    assert ExportJob.objects.get().types == ["Patient"]
