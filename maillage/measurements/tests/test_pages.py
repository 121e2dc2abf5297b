"""Readings on the record's pages: the professional's record and the patient's own, in French."""

from __future__ import annotations

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import in_care_team
from maillage.front.tests.test_home import signed_in
from maillage.measurements import actions
from maillage.measurements.models import Observation
from maillage.measurements.tests.conftest import blood_pressure, spo2
from maillage.testing.factories import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def readings(personas, act) -> list[Observation]:
    nurse = personas.nurse.user
    return [
        actions.record_observation(nurse, personas.patient, blood_pressure(encounter=act.uuid)),
        actions.record_observation(nurse, personas.patient, spo2("95.5", encounter=act.uuid)),
    ]


def test_the_doctor_sees_the_readings_in_the_record_and_marks_one(personas, readings) -> None:
    client = signed_in(personas.treating_doctor.user)
    text = page_text(client.get(f"/dossier/{personas.patient.uuid}/"))
    assert "Mesures récentes" in text
    assert "Pression artérielle" in text and "142/88 mmHg" in text
    assert "Saturation en oxygène" in text and "95,5 %" in text
    assert personas.nurse.user.display_name in text
    assert "Marquer « Pression artérielle » comme significative" in text

    pressure = readings[0]
    response = client.post(f"/mesures/{pressure.uuid}/significative", {"significant": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"/dossier/{personas.patient.uuid}/#mesures"
    pressure.refresh_from_db()
    assert pressure.significant
    text = page_text(client.get(f"/dossier/{personas.patient.uuid}/"))
    assert "Retirer la marque de « Pression artérielle »" in text


def test_a_nurse_of_the_care_team_sees_them_without_marking(personas, readings) -> None:
    in_care_team(personas.nurse, personas.patient)
    client = signed_in(personas.nurse.user)
    text = page_text(client.get(f"/dossier/{personas.patient.uuid}/"))
    assert "142/88 mmHg" in text and "comme significative" not in text
    response = client.post(f"/mesures/{readings[0].uuid}/significative", {"significant": "1"})
    assert response.status_code == 404
    readings[0].refresh_from_db()
    assert not readings[0].significant
    refused = AuditEntry.objects.filter(
        action=Action.OBSERVATION_WRITE, actor=personas.nurse.user, outcome=Outcome.DENIED
    ).get()
    assert refused.detail["rule"] == "not_doctor"


def test_a_stranger_cannot_mark(personas, readings) -> None:
    client = signed_in(personas.cardiologist.user)
    response = client.post(f"/mesures/{readings[0].uuid}/significative", {"significant": "1"})
    assert response.status_code == 404 and "Introuvable" in page_text(response)


def test_the_patient_sees_her_readings_in_her_record(personas, readings) -> None:
    text = page_text(signed_in(personas.patient_user).get("/dossier/mes-documents/"))
    assert "Mesures récentes" in text and "142/88 mmHg" in text and "95,5 %" in text
    assert "comme significative" not in text


def test_without_readings_the_page_says_so(personas) -> None:
    text = page_text(signed_in(personas.patient_user).get("/dossier/mes-documents/"))
    assert "Aucune mesure pour l’instant." in text
