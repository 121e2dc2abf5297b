from __future__ import annotations

import datetime as dt
import uuid

from maillage.accounts.models import Role
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import fhir_json, issues
from maillage.records import actions
from maillage.testing import factories as f


def test_it_reads_a_consent_for_the_patient_herself(api, personas):
    consent = actions.oppose_professional(
        personas.patient_user, personas.patient, personas.cardiologist
    )

    response = api.get(f"Consent/{consent.uuid}", personas.patient_user)

    assert response.status_code == 200
    resource = fhir_json(response)
    assert resource["id"] == str(consent.uuid)
    assert resource["status"] == "active"
    assert dt.datetime.fromisoformat(resource["dateTime"]) == consent.recorded_at
    assert resource["provision"]["type"] == "deny"
    entry = AuditEntry.objects.get(action=Action.CONSENT_READ)
    assert (entry.outcome, entry.basis) == (Outcome.GRANTED, "self")


def test_it_answers_404_to_a_consent_of_someone_else(api, personas):
    other_user = f.user("autre.patient", Role.PATIENT)
    other = f.patient("MARTIN", "Jeanne", user=other_user)
    theirs = actions.set_sharing(other_user, other, granted=False)

    response = api.get(f"Consent/{theirs.uuid}", personas.patient_user)

    assert response.status_code == 404


def test_it_answers_404_to_an_unknown_consent(api, personas):
    assert api.get(f"Consent/{uuid.uuid4()}", personas.patient_user).status_code == 404
    assert api.get("Consent/not-a-uuid", personas.patient_user).status_code == 404


def test_it_answers_403_to_a_professional_and_audits_it(api, personas):
    consent = actions.set_sharing(personas.patient_user, personas.patient, granted=True)

    response = api.get(f"Consent/{consent.uuid}", personas.treating_doctor)

    assert response.status_code == 403
    assert issues(response)[0]["code"] == "forbidden"
    entry = AuditEntry.objects.get(action=Action.CONSENT_READ)
    assert (entry.outcome, entry.actor) == (Outcome.DENIED, personas.treating_doctor.user)


def test_it_answers_404_to_a_patient_account_without_a_record(api, personas):
    lonely = f.user("sans.dossier", Role.PATIENT)

    response = api.get(f"Consent/{uuid.uuid4()}", lonely)

    assert response.status_code == 404
