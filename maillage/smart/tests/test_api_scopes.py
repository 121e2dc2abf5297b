"""An app's token on the FHIR API: the user's rights, narrowed by the scopes, never widened."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import BASE, document, in_care_team, issues
from maillage.smart.tests.conftest import launch
from maillage.testing import factories as f


def bearer(token: dict[str, Any] | str) -> dict[str, Any]:
    raw = token if isinstance(token, str) else str(token["access_token"])
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_a_patient_app_reads_her_and_only_her(client, personas, app):
    other = f.patient("MARTIN", "Louise", followed_by=(personas.msp,))
    token = launch(client, personas.patient_user, app).token("launch/patient patient/*.rs")
    api = Client()

    assert token["patient"] == str(personas.patient.uuid)
    mine = api.get(f"{BASE}/Patient/{personas.patient.uuid}", **bearer(token))
    theirs = api.get(f"{BASE}/Patient/{other.uuid}", **bearer(token))

    assert mine.status_code == 200
    assert json.loads(mine.content)["id"] == str(personas.patient.uuid)
    assert theirs.status_code == 404
    refused = AuditEntry.objects.get(patient=other, action=Action.PATIENT_READ)
    assert refused.outcome == Outcome.DENIED
    assert refused.actor == personas.patient_user
    assert refused.channel == "fhir"


def test_a_patient_resource_scope_cannot_read_documents(client, personas, app, private_files):
    document(personas.treating_doctor, personas.patient)
    token = launch(client, personas.patient_user, app).token("patient/Patient.rs")
    api = Client()

    patient = api.get(f"{BASE}/Patient/{personas.patient.uuid}", **bearer(token))
    documents: Any = api.get(f"{BASE}/DocumentReference", **bearer(token))

    assert patient.status_code == 200
    assert documents.status_code == 403
    assert "insufficient_scope" in documents["WWW-Authenticate"]
    assert "autorisations" in issues(documents)[0]["diagnostics"]
    refused = AuditEntry.objects.get(action=Action.SCOPE_REFUSED)
    assert refused.outcome == Outcome.DENIED
    assert refused.actor == personas.patient_user
    assert refused.detail["fhir"] == "DocumentReference"
    assert refused.detail["interaction"] == "search-type"
    assert refused.detail["client_id"] == app.client_id
    # Refused before the handler: the record was never opened.
    assert not AuditEntry.objects.filter(action=Action.RECORD_READ).exists()


def test_a_read_scope_cannot_create(client, personas, app):
    token = launch(client, personas.treating_doctor.user, app).token("user/*.rs")

    response = Client().post(
        f"{BASE}/Patient", "{}", content_type="application/fhir+json", **bearer(token)
    )

    assert response.status_code == 403
    assert AuditEntry.objects.filter(
        action=Action.SCOPE_REFUSED, detail__interaction="create"
    ).exists()
    assert not AuditEntry.objects.filter(action=Action.PATIENT_CREATE).exists()


def test_a_nurse_app_does_no_more_than_the_nurse(client, personas, app, private_files):
    stranger = f.patient("DURAND", "Paul", followed_by=(personas.hospital,))
    in_care_team(personas.nurse, personas.patient)
    token = launch(client, personas.nurse.user, app).token("user/*.cruds")
    api = Client()

    followed = api.get(f"{BASE}/Patient/{personas.patient.uuid}", **bearer(token))
    not_hers = api.get(f"{BASE}/Patient/{stranger.uuid}", **bearer(token))
    consents = api.get(f"{BASE}/Consent", **bearer(token))

    assert followed.status_code == 200
    assert not_hers.status_code == 404
    # Consents are the patient's own: the nurse gets 403, token or not.
    assert consents.status_code in {403, 404}
    assert AuditEntry.objects.get(patient=stranger).outcome == Outcome.DENIED


def test_a_user_scope_of_one_type_confines_to_it(client, personas, app):
    token = launch(client, personas.treating_doctor.user, app).token("user/Practitioner.rs")
    api = Client()

    assert api.get(f"{BASE}/Practitioner", **bearer(token)).status_code == 200
    assert api.get(f"{BASE}/Patient/{personas.patient.uuid}", **bearer(token)).status_code == 403


def test_v1_scopes_are_understood(client, personas, app):
    token = launch(client, personas.patient_user, app).token("patient/Patient.read")

    response = Client().get(f"{BASE}/Patient/{personas.patient.uuid}", **bearer(token))

    assert response.status_code == 200


def test_metadata_stays_public(client, personas, app):
    assert Client().get(f"{BASE}/metadata").status_code == 200


def test_an_expired_token_is_refused_and_audited(client, personas, app):
    token = launch(client, personas.patient_user, app).token("patient/*.rs")
    AccessToken.objects.update(expires=timezone.now())

    response = Client().get(f"{BASE}/Patient/{personas.patient.uuid}", **bearer(token))

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert AuditEntry.objects.filter(action=Action.TOKEN_EXPIRED, actor=personas.patient_user)


def test_a_deactivated_account_token_is_refused(client, personas, app):
    token = launch(client, personas.treating_doctor.user, app).token("user/*.rs")
    personas.treating_doctor.user.is_active = False
    personas.treating_doctor.user.save(update_fields=["is_active"])

    response = Client().get(f"{BASE}/Practitioner", **bearer(token))

    assert response.status_code == 401


def test_an_unknown_token_is_refused(db):
    response = Client().get(f"{BASE}/Practitioner", **bearer("n0tAT0ken"))

    assert response.status_code == 401
    assert AuditEntry.objects.filter(action=Action.TOKEN_REJECTED).exists()


def test_the_token_is_not_accepted_in_the_query_string(client, personas, app):
    token = launch(client, personas.patient_user, app).token("patient/*.rs")

    response = Client().get(
        f"{BASE}/Patient/{personas.patient.uuid}?access_token={token['access_token']}"
    )

    assert response.status_code == 401


def test_each_entry_of_a_batch_is_held_to_the_scopes(client, personas, app, private_files):
    token = launch(client, personas.patient_user, app).token("patient/Patient.rs")
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"request": {"method": "GET", "url": f"Patient/{personas.patient.uuid}"}},
            {"request": {"method": "GET", "url": "DocumentReference"}},
        ],
    }

    response = Client().post(
        BASE, json.dumps(bundle), content_type="application/fhir+json", **bearer(token)
    )

    assert response.status_code == 200, response.content
    statuses = [e["response"]["status"] for e in json.loads(response.content)["entry"]]
    assert statuses[0].startswith("200")
    assert statuses[1].startswith("403")
    assert AuditEntry.objects.filter(
        action=Action.SCOPE_REFUSED, detail__fhir="DocumentReference"
    ).exists()
