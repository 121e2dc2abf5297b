"""A SMART app's scopes narrow the tele-expertise too: a read-only app cannot take a request."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.expertise.models import Status
from maillage.fhir.tests.conftest import BASE
from maillage.fhir.tests.expertise_helpers import ask_pool
from maillage.smart.testing import public_app
from maillage.smart.tests.conftest import launch

pytestmark = pytest.mark.usefixtures("private_files")


def test_a_read_only_app_reads_the_task_but_cannot_accept_it(client, personas, dermatology):
    request = ask_pool(personas, dermatology)
    token = launch(client, dermatology.first.user, public_app()).token(
        "user/Task.rs user/ServiceRequest.rs"
    )
    headers: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token['access_token']}"}
    api = Client()

    read = api.get(f"{BASE}/Task/{request.uuid}", **headers)
    accepted = api.patch(
        f"{BASE}/Task/{request.uuid}",
        json.dumps({"status": "accepted"}),
        content_type="application/merge-patch+json",
        **headers,
    )

    assert read.status_code == 200
    assert accepted.status_code == 403
    assert "insufficient_scope" in accepted["WWW-Authenticate"]
    request.refresh_from_db()
    assert request.status == Status.WAITING
    refused = AuditEntry.objects.get(action=Action.SCOPE_REFUSED)
    assert (refused.outcome, refused.detail["fhir"], refused.detail["interaction"]) == (
        Outcome.DENIED,
        "Task",
        "patch",
    )
    # Refused before the handler: no write was even tried.
    specialist = dermatology.first.user
    assert not AuditEntry.objects.filter(action=Action.EXPERTISE_WRITE, actor=specialist).exists()


def test_an_app_with_task_write_takes_it(client, personas, dermatology):
    request = ask_pool(personas, dermatology)
    token = launch(client, dermatology.first.user, public_app()).token("user/Task.rus")

    accepted = Client().patch(
        f"{BASE}/Task/{request.uuid}",
        json.dumps({"status": "accepted"}),
        content_type="application/merge-patch+json",
        HTTP_AUTHORIZATION=f"Bearer {token['access_token']}",
    )

    assert accepted.status_code == 200
    request.refresh_from_db()
    assert request.status == Status.CLAIMED
