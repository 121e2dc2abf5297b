"""The regulator's page of open cases, and closing one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from maillage.accounts.models import Role
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.front.tests.test_home import signed_in
from maillage.regulation import actions
from maillage.regulation.models import RegulationCase
from maillage.regulation.tests.conftest import REASON, by_matricule, open_case_about
from maillage.testing import factories as f
from maillage.testing.factories import page_text


@pytest.mark.django_db
def test_his_page_lists_his_open_cases_only(personas) -> None:
    case = open_case_about(personas)
    other = f.patient("MARTIN", "Lucienne", dt.date(1950, 1, 2))
    over = actions.open_case(personas.regulator, by_matricule(other), REASON + " (terminé)", 2)
    RegulationCase.objects.filter(pk=over.pk).update(expires_at=timezone.now())
    colleague = f.user("regulateur.bis", Role.REGULATOR)
    third = f.patient("BERNARD", "Odette", dt.date(1939, 5, 6))
    actions.open_case(colleague, by_matricule(third), REASON, 2)

    response = signed_in(personas.regulator).get("/regulation/")
    assert response.status_code == 200
    text = page_text(response)
    assert "1 dossier ouvert" in text
    assert "GIRARD" in text and REASON in text
    assert timezone.localtime(case.expires_at).strftime("%d/%m/%Y %H:%M") in text
    assert "MARTIN" not in text and "BERNARD" not in text
    # Naming her on the page is a listing through the policy, on her trail, with the reason.
    listed = AuditEntry.objects.filter(action=Action.PATIENT_SEARCH, actor=personas.regulator)
    assert [(e.patient, e.basis, e.reason) for e in listed] == [
        (personas.patient, "regulation_case", REASON)
    ]


@pytest.mark.django_db
def test_closing_ends_the_case_and_is_audited(personas) -> None:
    case = open_case_about(personas)
    client = signed_in(personas.regulator)
    response = client.post(f"/regulation/{case.uuid}/cloture/", follow=True)
    assert response.status_code == 200
    assert "Dossier clos" in page_text(response) and "Aucun dossier ouvert." in page_text(response)
    case.refresh_from_db()
    assert case.closed_at is not None and not case.is_open
    closed = AuditEntry.objects.get(action=Action.REGULATION_CLOSE)
    assert (closed.outcome, closed.patient, closed.detail["case"]) == (
        Outcome.GRANTED,
        personas.patient,
        str(case.uuid),
    )


@pytest.mark.django_db
def test_closing_twice_changes_nothing_and_says_so(personas) -> None:
    case = open_case_about(personas)
    client = signed_in(personas.regulator)
    client.post(f"/regulation/{case.uuid}/cloture/")
    case.refresh_from_db()
    first = case.closed_at
    response = client.post(f"/regulation/{case.uuid}/cloture/", follow=True)
    assert "Ce dossier était déjà clos." in page_text(response)
    case.refresh_from_db()
    assert case.closed_at == first
    outcomes = list(
        AuditEntry.objects.filter(action=Action.REGULATION_CLOSE)
        .order_by("seq")
        .values_list("outcome", "detail__failure")
    )
    assert outcomes == [(Outcome.GRANTED, None), (Outcome.FAILED, "already_over")]


@pytest.mark.django_db
def test_no_one_else_closes_his_case(personas) -> None:
    case = open_case_about(personas)
    colleague = f.user("regulateur.bis", Role.REGULATOR)
    assert signed_in(colleague).post(f"/regulation/{case.uuid}/cloture/").status_code == 404
    assert signed_in(personas.admin).post(f"/regulation/{case.uuid}/cloture/").status_code == 403
    assert signed_in(personas.regulator).get(f"/regulation/{case.uuid}/cloture/").status_code == 405
    case.refresh_from_db()
    assert case.closed_at is None
    assert not AuditEntry.objects.filter(action=Action.REGULATION_CLOSE).exists()


@pytest.mark.django_db
def test_a_bogus_case_id_is_not_found(personas) -> None:
    client = signed_in(personas.regulator)
    assert (
        client.post("/regulation/0b6cbd5c-4a5c-4b8e-8a30-1c0d5b2f6a11/cloture/").status_code == 404
    )
    assert client.post("/regulation/pas-un-uuid/cloture/").status_code == 404
