"""DocumentReference vread and history: as filed (1), then replaced or withdrawn (2)."""

from __future__ import annotations

import datetime as dt

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import PDF, document, fhir_json, in_care_team, issues
from maillage.files.storage import Upload
from maillage.records import actions
from maillage.records.actions import NewDocument

pytestmark = pytest.mark.usefixtures("private_files")


@pytest.fixture
def filed(personas):
    in_care_team(personas.treating_doctor, personas.patient)
    return document(personas.treating_doctor, personas.patient)


def _replace(personas, filed):
    new = NewDocument(type=filed.type, title="Compte rendu corrigé", date=dt.date(2026, 11, 3))
    return actions.replace_document(
        personas.treating_doctor.user, filed, new, [Upload("cr.pdf", PDF)]
    )


def test_a_current_document_is_at_version_1(api, personas, filed):
    response = api.get(f"DocumentReference/{filed.uuid}/_history/1", personas.treating_doctor)

    assert response.status_code == 200
    resource = fhir_json(response)
    assert (resource["meta"]["versionId"], resource["status"]) == ("1", "current")
    assert response["ETag"] == 'W/"1"'
    assert (
        api.get(f"DocumentReference/{filed.uuid}/_history/2", personas.treating_doctor).status_code
        == 404
    )


def test_a_replaced_document_has_two_versions(api, personas, filed):
    newer = _replace(personas, filed)
    path = f"DocumentReference/{filed.uuid}"

    current = fhir_json(api.get(path, personas.treating_doctor))
    as_filed = fhir_json(api.get(f"{path}/_history/1", personas.treating_doctor))
    history = fhir_json(api.get(f"{path}/_history", personas.treating_doctor))

    assert (current["meta"]["versionId"], current["status"]) == ("2", "superseded")
    assert dt.datetime.fromisoformat(current["meta"]["lastUpdated"]) == newer.created_at
    assert (as_filed["meta"]["versionId"], as_filed["status"]) == ("1", "current")
    assert [e["resource"]["status"] for e in history["entry"]] == ["superseded", "current"]
    assert history["type"] == "history"
    reads = AuditEntry.objects.filter(action=Action.DOCUMENT_READ, outcome=Outcome.GRANTED)
    assert reads.count() == 3


def test_a_withdrawn_document_says_when(api, personas, filed):
    actions.withdraw_document(personas.treating_doctor.user, filed, "Erreur de patient")
    filed.refresh_from_db()

    resource = fhir_json(api.get(f"DocumentReference/{filed.uuid}", personas.treating_doctor))

    assert (resource["meta"]["versionId"], resource["status"]) == ("2", "entered-in-error")
    assert dt.datetime.fromisoformat(resource["meta"]["lastUpdated"]) == filed.withdrawn_at


def test_a_stranger_gets_404_on_the_history_and_is_audited(api, personas, filed):
    response = api.get(f"DocumentReference/{filed.uuid}/_history", personas.cardiologist)

    assert response.status_code == 404
    assert issues(response)[0]["code"] == "not-found"
    entry = AuditEntry.objects.get(action=Action.DOCUMENT_READ)
    assert (entry.outcome, entry.patient) == (Outcome.DENIED, personas.patient)
