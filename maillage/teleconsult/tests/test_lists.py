"""The doctor's list of open acts asks the policy for each patient, as the other lists do."""

from __future__ import annotations

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.policy import teleconsult as policy
from maillage.records import actions as records
from maillage.teleconsult import actions
from maillage.teleconsult.tests.test_pages import client_for
from maillage.testing import factories as f
from maillage.testing.factories import page_text

pytestmark = pytest.mark.django_db


def test_a_patient_who_opposed_the_doctor_is_not_listed_to_her(personas, consultation) -> None:
    doctor = personas.treating_doctor
    other_patient = f.patient(
        "BERNARD", "Lucien", followed_by=(personas.msp,), treating_doctor=doctor
    )
    other = actions.open_consultation(doctor.user, other_patient, doctor, reason="Suivi")
    page = client_for(doctor.user)
    assert {c.pk for c in policy.doctors_open_acts(doctor.user)} == {consultation.pk, other.pk}
    assert "GIRARD" in page_text(page.get("/teleconsultation/"))

    # The attacker's way in is the act planned before: the patient opposes her since.
    records.oppose_professional(personas.patient_user, personas.patient, doctor)
    before = AuditEntry.objects.filter(actor=doctor.user, patient=personas.patient).count()

    assert [c.pk for c in policy.doctors_open_acts(doctor.user)] == [other.pk]
    listed = page_text(page.get("/teleconsultation/"))
    assert "GIRARD" not in listed and "BERNARD" in listed
    # Nothing about her was handed to the doctor by the lists: no granted read since.
    since = AuditEntry.objects.filter(actor=doctor.user, patient=personas.patient)[before:]
    assert not [e for e in since if e.outcome == Outcome.GRANTED]
    # And the act itself is refused to her, by the opposition.
    assert page.get(f"/teleconsultation/{consultation.uuid}/").status_code == 404
    refused = AuditEntry.objects.filter(
        actor=doctor.user, patient=personas.patient, action=Action.TELECONSULT_READ
    ).latest("seq")
    assert (refused.outcome, refused.detail["rule"]) == (Outcome.DENIED, "opposed_professional")
    # The other patient's read is still audited, once for the list.
    assert AuditEntry.objects.filter(
        actor=doctor.user,
        patient=other_patient,
        action=Action.TELECONSULT_READ,
        outcome=Outcome.GRANTED,
    ).exists()
