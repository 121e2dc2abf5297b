"""A new version of a document: POST DocumentReference with relatesTo replaces."""

from __future__ import annotations

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import document, fhir_json, in_care_team, issues
from maillage.fhir.tests.test_document_reference_create import _body
from maillage.records.models import Document, DocumentStatus
from maillage.testing import factories as f

pytestmark = pytest.mark.usefixtures("private_files")


@pytest.fixture
def filed(personas):
    in_care_team(personas.treating_doctor, personas.patient)
    return document(personas.treating_doctor, personas.patient)


def _new_version(personas, replaced, **changes):
    relation = [{"code": "replaces", "target": {"reference": f"DocumentReference/{replaced.uuid}"}}]
    return _body(
        personas.patient, relatesTo=relation, description="Compte rendu corrigé", **changes
    )


def test_the_author_files_a_new_version_and_the_old_one_is_superseded(api, personas, filed):
    doctor = personas.treating_doctor

    response = api.post("DocumentReference", _new_version(personas, filed), doctor)

    assert response.status_code == 201
    newer = fhir_json(response)
    assert newer["relatesTo"] == [
        {"code": "replaces", "target": {"reference": f"DocumentReference/{filed.uuid}"}}
    ]
    assert newer["meta"]["versionId"] == "1"
    filed.refresh_from_db()
    assert filed.status == DocumentStatus.REPLACED
    old = fhir_json(api.get(f"DocumentReference/{filed.uuid}", doctor))
    assert (old["status"], old["meta"]["versionId"]) == ("superseded", "2")
    history = fhir_json(api.get(f"DocumentReference/{filed.uuid}/_history", doctor))
    assert [e["resource"]["status"] for e in history["entry"]] == ["superseded", "current"]
    entry = AuditEntry.objects.get(action=Action.DOCUMENT_REPLACE)
    assert (entry.outcome, entry.detail["new_version"]) == (Outcome.GRANTED, newer["id"])


def test_only_its_author_replaces_a_document(api, personas, filed):
    in_care_team(personas.nurse, personas.patient)

    response = api.post("DocumentReference", _new_version(personas, filed), personas.nurse)

    assert response.status_code == 403
    filed.refresh_from_db()
    assert filed.status == DocumentStatus.CURRENT
    assert Document.objects.count() == 1


def test_a_stranger_gets_404_and_his_attempt_is_on_her_trail(api, personas, filed):
    response = api.post("DocumentReference", _new_version(personas, filed), personas.cardiologist)

    assert response.status_code == 404
    assert issues(response)[0]["expression"] == ["DocumentReference.relatesTo[0].target"]
    entry = AuditEntry.objects.get(action=Action.DOCUMENT_READ)
    assert (entry.outcome, entry.patient) == (Outcome.DENIED, personas.patient)
    assert Document.objects.count() == 1


def test_a_new_version_stays_in_its_record(api, personas, filed):
    other = f.patient("DURAND", "Paul", followed_by=(personas.msp,), treating_doctor=None)
    body = _new_version(personas, filed, subject={"reference": f"Patient/{other.uuid}"})

    response = api.post("DocumentReference", body, personas.treating_doctor)

    assert response.status_code == 422
    assert Document.objects.count() == 1


def test_a_superseded_version_cannot_be_replaced_again(api, personas, filed):
    doctor = personas.treating_doctor
    assert api.post("DocumentReference", _new_version(personas, filed), doctor).status_code == 201

    response = api.post("DocumentReference", _new_version(personas, filed), doctor)

    assert response.status_code == 409
    assert Document.objects.count() == 2
