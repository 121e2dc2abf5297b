"""Who may not write or read a report, and a receiver the patient opposed.

Only the act's doctor opens the report (``policy.acts``): anyone else gets
"not found", audited as a refusal, and nothing is written. A receiver the
policy refuses is said on the report; the closing stands.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from maillage.acts import actions
from maillage.acts.models import RecordedAct, Report
from maillage.acts.tests.conftest import CONTENT
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.directory.terminology import Specialty
from maillage.front.tests.test_home import signed_in
from maillage.messaging.models import Delivery, DeliveryStatus
from maillage.policy.teleconsult import ConsultationNotFound
from maillage.records import actions as records
from maillage.records.models import Document
from maillage.testing import factories as f

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client: Client = signed_in(user)
    return client


@pytest.mark.parametrize("who", ["treating_doctor", "nurse", "patient_user", "coordinator"])
def test_someone_else_neither_reads_nor_writes_the_report(
    personas: Any, call: Any, who: str
) -> None:
    """The médecin traitant (no seat in this act), a nurse, the patient herself, a secretary."""
    user = personas.user(who)
    url = reverse("acts:report", args=[call.uuid])
    client = _client(user)

    assert client.get(url).status_code == 404
    assert client.post(url, {**CONTENT.__dict__, "close": ""}).status_code == 404
    with pytest.raises(ConsultationNotFound):
        actions.save_draft(user, call.uuid, actions.ReportContent(conclusion="Faux"))

    assert not Report.objects.exists() and not RecordedAct.objects.exists()
    assert not Document.objects.filter(patient=personas.patient).exists()
    refusals = AuditEntry.objects.filter(actor=user, outcome=Outcome.DENIED)
    assert {e.action for e in refusals} == {Action.TELECONSULT_READ, Action.TELECONSULT_WRITE}
    assert not AuditEntry.objects.filter(
        actor=user, outcome=Outcome.GRANTED, patient__isnull=False
    ).exists()


def test_an_unknown_or_malformed_act_is_not_found(personas: Any, call: Any) -> None:
    client = _client(personas.cardiologist.user)
    assert client.get("/actes/00000000-0000-0000-0000-000000000000/compte-rendu/").status_code == (
        404
    )
    with pytest.raises(ConsultationNotFound):
        actions.close(personas.cardiologist.user, "pas-un-uuid", CONTENT)


def test_a_stranger_doctor_cannot_read_the_filed_report(personas: Any, call: Any) -> None:
    report = actions.close(personas.cardiologist.user, call.uuid, CONTENT)
    stranger = f.professional("medecin.inconnu", last_name="Inconnu", specialty="SM54")
    assert report.document is not None
    url = reverse("records:document", args=[report.document.uuid])

    assert _client(stranger.user).get(url).status_code == 404
    assert _client(personas.treating_doctor.user).get(url).status_code == 200


def test_a_receiver_the_patient_opposed_is_refused_and_said(personas: Any, call: Any) -> None:
    records.oppose_professional(personas.patient_user, personas.patient, personas.treating_doctor)

    report = actions.close(personas.cardiologist.user, call.uuid, CONTENT)

    assert report.is_closed and report.document is not None
    assert "Morel" in report.problem
    assert not Delivery.objects.filter(user=personas.treating_doctor.user).exists()
    refused = AuditEntry.objects.get(
        actor=personas.cardiologist.user, outcome=Outcome.DENIED, action=Action.MESSAGE_RECEIVE
    )
    assert refused.patient == personas.patient
    assert RecordedAct.objects.filter(report=report).exists()
    page = _client(personas.cardiologist.user).get(reverse("acts:report", args=[call.uuid]))
    assert "Morel" in page.content.decode()


def test_an_outside_treating_doctor_gets_it_by_mssante(personas: Any, call: Any) -> None:
    outside = f.professional(
        None,
        last_name="Texier",
        specialty=Specialty.GENERAL_PRACTICE_QUALIFIED,
        secure_messaging_address="jean.texier@medecin.mssante.fr",
    )
    personas.patient.treating_doctor = outside
    personas.patient.save(update_fields=["treating_doctor"])

    report = actions.close(personas.cardiologist.user, call.uuid, CONTENT)

    assert report.problem == ""
    delivery = Delivery.objects.get(address="jean.texier@medecin.mssante.fr")
    assert delivery.status == DeliveryStatus.PENDING
