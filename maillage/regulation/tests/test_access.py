"""The regulator as an attacker: no case, no data; a case, its reason on every entry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from maillage.accounts.models import Role
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.front.tests.test_home import signed_in
from maillage.records import actions as record_actions
from maillage.regulation.models import RegulationCase
from maillage.regulation.tests.conftest import REASON, file_report, open_case_about
from maillage.testing import factories as f
from maillage.testing.factories import page_text

READS = (Action.PATIENT_READ, Action.RECORD_READ, Action.DOCUMENT_READ)
IDENTITY_READ = "a ouvert la fiche d'identité"


def _urls(personas, document) -> dict[str, str]:
    return {
        Action.PATIENT_READ: f"/patients/{personas.patient.uuid}/",
        Action.RECORD_READ: f"/dossier/{personas.patient.uuid}/",
        Action.DOCUMENT_READ: f"/dossier/documents/{document.uuid}/",
    }


def _assert_shut(personas, client, document) -> None:
    """Every way in answers 404, and each refusal is on the patient's trail."""
    before = AuditEntry.objects.count()
    for purpose, url in _urls(personas, document).items():
        assert client.get(url).status_code == 404, url
        refused = AuditEntry.objects.filter(
            seq__gt=before, actor=personas.regulator, patient=personas.patient, action=purpose
        )
        assert [e.outcome for e in refused] == [Outcome.DENIED], purpose
    listed = client.get("/patients/", {"q": "GIRARD"})
    # The search echoes the typed name: the patient's link is what must be absent.
    assert listed.status_code == 200 and str(personas.patient.uuid) not in page_text(listed)
    assert not AuditEntry.objects.filter(
        seq__gt=before, action=Action.PATIENT_SEARCH, patient=personas.patient
    ).exists()


@pytest.mark.django_db
def test_without_a_case_the_regulator_finds_nothing(personas) -> None:
    document = file_report(personas)
    _assert_shut(personas, signed_in(personas.regulator), document)
    rules = set(
        AuditEntry.objects.filter(actor=personas.regulator, patient=personas.patient).values_list(
            "detail__rule", flat=True
        )
    )
    assert rules == {"relation"}


@pytest.mark.django_db
def test_with_a_case_he_reads_and_every_entry_carries_the_reason(personas) -> None:
    document = file_report(personas)
    open_case_about(personas)
    client = signed_in(personas.regulator)
    before = AuditEntry.objects.count()
    for url in _urls(personas, document).values():
        response = client.get(url)
        assert response.status_code == 200, url
    assert "GIRARD" in page_text(client.get(f"/patients/{personas.patient.uuid}/"))
    assert "Compte rendu du 2 novembre" in page_text(
        client.get(f"/dossier/{personas.patient.uuid}/")
    )
    listed = client.get("/patients/", {"q": "GIRARD"})
    assert str(personas.patient.uuid) in page_text(listed)
    reads = AuditEntry.objects.filter(
        seq__gt=before, actor=personas.regulator, patient=personas.patient
    )
    assert {e.action for e in reads} >= {*READS, Action.PATIENT_SEARCH}
    for entry in reads:
        assert (entry.outcome, entry.basis, entry.reason) == (
            Outcome.GRANTED,
            "regulation_case",
            REASON,
        ), entry.action


@pytest.mark.django_db
def test_a_case_never_lets_him_write(personas) -> None:
    open_case_about(personas)
    client = signed_in(personas.regulator)
    assert client.get(f"/patients/{personas.patient.uuid}/modifier/").status_code == 404
    assert client.get(f"/dossier/{personas.patient.uuid}/ajouter/").status_code in {403, 404}
    refused = AuditEntry.objects.get(
        actor=personas.regulator, action=Action.PATIENT_UPDATE, outcome=Outcome.DENIED
    )
    assert refused.patient == personas.patient and refused.detail["rule"] == "role"


@pytest.mark.django_db
def test_an_expired_case_grants_nothing(personas) -> None:
    document = file_report(personas)
    case = open_case_about(personas)
    RegulationCase.objects.filter(pk=case.pk).update(expires_at=timezone.now())
    _assert_shut(personas, signed_in(personas.regulator), document)


@pytest.mark.django_db
def test_a_closed_case_grants_nothing(personas) -> None:
    document = file_report(personas)
    case = open_case_about(personas)
    client = signed_in(personas.regulator)
    assert client.post(f"/regulation/{case.uuid}/cloture/").status_code == 302
    case.refresh_from_db()
    assert case.closed_at is not None
    _assert_shut(personas, client, document)


@pytest.mark.django_db
def test_a_case_about_her_opens_no_one_else(personas) -> None:
    open_case_about(personas)
    neighbour = f.patient("MARTIN", "Lucienne", dt.date(1950, 1, 2), followed_by=(personas.msp,))
    client = signed_in(personas.regulator)
    assert client.get(f"/patients/{neighbour.uuid}/").status_code == 404
    assert client.get(f"/dossier/{neighbour.uuid}/").status_code == 404
    assert str(neighbour.uuid) not in page_text(client.get("/patients/", {"q": "MARTIN"}))


@pytest.mark.django_db
def test_another_regulators_case_opens_nothing_to_him(personas) -> None:
    document = file_report(personas)
    open_case_about(personas)
    colleague = f.user("regulateur.bis", Role.REGULATOR)
    client = signed_in(colleague)
    for url in _urls(personas, document).values():
        assert client.get(url).status_code == 404, url


@pytest.mark.django_db
def test_an_opposition_made_during_the_case_shuts_the_identity_too(personas) -> None:
    """Finding 12's second half: the cut access left the identity page readable."""
    document = file_report(personas)
    open_case_about(personas)
    record_actions.oppose_emergency_access(personas.patient_user, personas.patient)
    client = signed_in(personas.regulator)
    for purpose, url in _urls(personas, document).items():
        assert client.get(url).status_code == 404, url
        refused = AuditEntry.objects.filter(
            actor=personas.regulator, action=purpose, outcome=Outcome.DENIED
        ).latest("seq")
        assert refused.patient == personas.patient
        assert refused.detail["rule"] == "opposed_emergency"
    cases = page_text(client.get("/regulation/"))
    assert "GIRARD" not in cases and "Patient plus accessible" in cases


@pytest.mark.django_db
def test_the_patient_sees_the_case_highlighted_with_its_reason(personas) -> None:
    open_case_about(personas)
    signed_in(personas.regulator).get(f"/patients/{personas.patient.uuid}/")
    response = signed_in(personas.patient_user).get("/patients/mon-dossier/acces/")
    assert response.status_code == 200
    text = page_text(response)
    rows = [row for row in text.split("<tr") if 'class="break-glass"' in row]
    assert any("a ouvert un dossier de régulation" in row and REASON in row for row in rows)
    assert any(IDENTITY_READ in row and REASON in row for row in rows)
