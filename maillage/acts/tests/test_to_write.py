"""The doctor's list of reports to write: her held acts not closed, each patient shown audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from maillage.acts import actions
from maillage.acts.tests.conftest import CONTENT
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.front.tests.test_home import signed_in
from maillage.records import actions as records

pytestmark = pytest.mark.django_db
URL = "/actes/comptes-rendus/"


def test_it_lists_the_act_until_its_report_is_closed(personas: Any, call: Any) -> None:
    doctor = personas.cardiologist.user
    client = signed_in(doctor)

    before = client.get(URL).content.decode()
    listed = AuditEntry.objects.filter(actor=doctor, action=Action.TELECONSULT_READ)
    assert reverse("acts:report", args=[call.uuid]) in before and "GIRARD" in before
    assert listed.filter(patient=personas.patient, outcome=Outcome.GRANTED).count() == 1

    actions.close(doctor, call.uuid, CONTENT)
    after = client.get(URL).content.decode()
    assert "GIRARD" not in after and "Aucun compte rendu à rédiger." in after


def test_a_patient_who_opposed_the_doctor_is_left_out(personas: Any, call: Any) -> None:
    records.oppose_professional(personas.patient_user, personas.patient, personas.cardiologist)
    page = signed_in(personas.cardiologist.user).get(URL).content.decode()
    assert "GIRARD" not in page
    assert not AuditEntry.objects.filter(
        actor=personas.cardiologist.user, patient=personas.patient, outcome=Outcome.GRANTED
    ).exists()


@pytest.mark.parametrize("who", ["treating_doctor", "nurse", "patient_user", "coordinator"])
def test_only_the_acts_doctor_sees_it(personas: Any, call: Any, who: str) -> None:
    response = signed_in(personas.user(who)).get(URL)
    if who == "treating_doctor":
        assert response.status_code == 200 and "GIRARD" not in response.content.decode()
    else:
        assert response.status_code == 403
