"""The administrators' review of cases that are over, like break-the-glass."""

from __future__ import annotations

import pytest
from django.utils import timezone

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.front.tests.test_home import signed_in
from maillage.regulation import actions
from maillage.regulation.models import RegulationCase
from maillage.regulation.tests.conftest import REASON, open_case_about
from maillage.testing.factories import page_text

QUEUE = "/regulation/revue/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who",
    ["regulator", "treating_doctor", "cardiologist", "coordinator", "analyst", "patient_user"],
)
def test_the_queue_is_for_administrators_only(personas, who) -> None:
    case = open_case_about(personas)
    actions.close_case(personas.regulator, case)
    client = signed_in(personas.user(who))
    assert client.get(QUEUE).status_code == 403
    response = client.post(f"{QUEUE}{case.uuid}/", {"outcome": "justified", "note": "vu"})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.reviewed_at is None
    assert not AuditEntry.objects.filter(action=Action.REGULATION_REVIEW).exists()


@pytest.mark.django_db
def test_only_cases_that_are_over_are_listed_each_audited(personas) -> None:
    still_open = open_case_about(personas)
    closed = open_case_about(personas)
    actions.close_case(personas.regulator, closed)
    expired = open_case_about(personas)
    RegulationCase.objects.filter(pk=expired.pk).update(expires_at=timezone.now())

    response = signed_in(personas.admin).get(QUEUE)
    assert response.status_code == 200
    text = page_text(response)
    assert "2 dossiers à examiner" in text and REASON in text
    assert str(closed.uuid) in text and str(expired.uuid) in text
    assert str(still_open.uuid) not in text
    listed = AuditEntry.objects.filter(action=Action.REGULATION_REVIEW, actor=personas.admin)
    assert sorted(e.detail["case"] for e in listed) == sorted([str(closed.uuid), str(expired.uuid)])
    assert {(e.patient, e.detail["step"]) for e in listed} == {(personas.patient, "listed")}


@pytest.mark.django_db
def test_a_review_is_recorded_once(personas) -> None:
    case = open_case_about(personas)
    actions.close_case(personas.regulator, case)
    admin = signed_in(personas.admin)
    response = admin.post(f"{QUEUE}{case.uuid}/", {"outcome": "unjustified", "note": "Sans appel"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.review_outcome, case.review_note, case.reviewed_by) == (
        "unjustified",
        "Sans appel",
        personas.admin,
    )
    reviewed = AuditEntry.objects.get(
        action=Action.REGULATION_REVIEW, detail__outcome="unjustified"
    )
    assert (reviewed.outcome, reviewed.patient) == (Outcome.GRANTED, personas.patient)
    again = admin.post(f"{QUEUE}{case.uuid}/", {"outcome": "justified"}, follow=True)
    assert "déjà été examiné" in page_text(again)
    case.refresh_from_db()
    assert case.review_outcome == "unjustified"
    assert "Sans appel" in page_text(admin.get(QUEUE))


@pytest.mark.django_db
def test_an_open_case_cannot_be_reviewed_yet(personas) -> None:
    case = open_case_about(personas)
    response = signed_in(personas.admin).post(
        f"{QUEUE}{case.uuid}/", {"outcome": "justified"}, follow=True
    )
    assert "encore ouvert" in page_text(response)
    case.refresh_from_db()
    assert case.reviewed_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("outcome", ["", "approved", "x" * 5000])
def test_a_bad_outcome_is_explained(personas, outcome) -> None:
    case = open_case_about(personas)
    actions.close_case(personas.regulator, case)
    response = signed_in(personas.admin).post(
        f"{QUEUE}{case.uuid}/", {"outcome": outcome}, follow=True
    )
    assert response.status_code == 200
    assert "Choisissez la conclusion de l'examen." in page_text(response)
    case.refresh_from_db()
    assert case.reviewed_at is None
