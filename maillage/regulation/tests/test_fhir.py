"""The same case, no other way in: the FHIR API answers the regulator as the pages do."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import Api
from maillage.regulation.models import RegulationCase
from maillage.regulation.tests.conftest import REASON, file_report, open_case_about


@pytest.mark.django_db
def test_fhir_reads_need_an_open_case_and_carry_its_reason(personas) -> None:
    api = Api(Client())
    document = file_report(personas)
    paths = [f"Patient/{personas.patient.uuid}", f"DocumentReference/{document.uuid}"]
    for path in paths:
        assert api.get(path, personas.regulator).status_code == 404, path
    refused = AuditEntry.objects.filter(actor=personas.regulator, outcome=Outcome.DENIED)
    assert {e.action for e in refused} >= {Action.PATIENT_READ, Action.DOCUMENT_READ}
    assert {e.patient for e in refused} == {personas.patient}

    case = open_case_about(personas)
    before = AuditEntry.objects.count()
    for path in paths:
        assert api.get(path, personas.regulator).status_code == 200, path
    granted = AuditEntry.objects.filter(
        seq__gt=before, actor=personas.regulator, patient=personas.patient
    )
    assert granted.exists()
    assert {(e.outcome, e.basis, e.reason) for e in granted} == {
        (Outcome.GRANTED, "regulation_case", REASON)
    }

    RegulationCase.objects.filter(pk=case.pk).update(closed_at=timezone.now())
    for path in paths:
        assert api.get(path, personas.regulator).status_code == 404, path
