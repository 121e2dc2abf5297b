"""Closing a report: written once, filed, sent to the médecin traitant, shown to the patient.

End to end through the actions and the pages: the record holds the report
and the prescription, the médecin traitant's inbox has them, the patient's
documents and access log show them, the act is recorded with its billing,
participants and incidents, and the audit trail says each step.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from maillage.acts import actions, write_once
from maillage.acts.labels import act_shown
from maillage.acts.models import RecordedAct, Report, ReportStatus
from maillage.acts.tests.conftest import CONTENT
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.front.tests.test_home import signed_in
from maillage.messaging.models import Attachment, Delivery
from maillage.records.models import CareTeamMember, Document, DocumentType
from maillage.teleconsult.models import Status

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client: Client = signed_in(user)
    return client


def test_it_closes_files_sends_and_records_the_act(personas: Any, call: Any) -> None:
    doctor = personas.cardiologist.user
    actions.save_draft(doctor, call.uuid, actions.ReportContent(reason="Palpitations"))

    report = actions.close(doctor, call.uuid, CONTENT)

    assert report.status == ReportStatus.CLOSED and report.problem == ""
    call.refresh_from_db()
    assert call.status == Status.FINISHED and call.ended_by == doctor
    # The record: the report and the prescription, each a PDF under the doctor's name.
    filed = Document.objects.filter(patient=personas.patient).order_by("pk")
    assert [(d.type, d.author_id) for d in filed] == [
        (DocumentType.TELECONSULTATION_REPORT, doctor.pk),
        (DocumentType.PRESCRIPTION, doctor.pk),
    ]
    assert (report.document, report.prescription) == (filed[0], filed[1])
    for document in filed:
        assert document.document_files.get().file.mime == "application/pdf"
    # The médecin traitant's inbox: one message with both PDFs.
    delivery = Delivery.objects.get(user=personas.treating_doctor.user)
    assert delivery.message.thread.patient == personas.patient
    assert {a.source_document_id for a in Attachment.objects.filter(message=delivery.message)} == {
        filed[0].pk,
        filed[1].pk,
    }
    # The act: Sancoins is in a ZIP zone, the cardiologist bills TC at its tariff.
    act = RecordedAct.objects.get(consultation=call)
    assert (act.billable, act.billing_code, act.tariff, act.rule) == (
        True,
        "TC",
        Decimal("25.00"),
        "underserved_zone",
    )
    assert {p["role"] for p in act.participants} == {"doctor", "patient"}
    assert [i["kind"] for i in act.incidents] == ["drop"]
    assert act.started_at == call.started_at and act.ended_at == call.ended_at
    # The act gave the doctor a place in the care team, which the patient sees.
    assert CareTeamMember.objects.filter(
        patient=personas.patient, professional=personas.cardiologist, reason="act"
    ).exists()


def test_the_audit_trail_says_each_step(personas: Any, call: Any) -> None:
    doctor = personas.cardiologist.user
    actions.close(doctor, call.uuid, CONTENT)
    granted = AuditEntry.objects.filter(
        patient=personas.patient, actor=doctor, outcome=Outcome.GRANTED
    )
    closing = granted.get(action=Action.TELECONSULT_WRITE)
    assert closing.detail["step"] == "report_close" and closing.detail["billing"] == "TC"
    assert granted.filter(action=Action.DOCUMENT_CREATE).count() == 2
    assert granted.filter(action=Action.MESSAGE_SEND).count() == 1
    assert not AuditEntry.objects.filter(patient=personas.patient, outcome=Outcome.DENIED).exists()


def test_the_patient_finds_it_in_her_documents_and_her_access_log(personas: Any, call: Any) -> None:
    actions.close(personas.cardiologist.user, call.uuid, CONTENT)
    patient = _client(personas.patient_user)

    documents = patient.get(reverse("records:my_documents"))
    log = patient.get(reverse("patients:my_access_log"))

    assert documents.status_code == 200
    page = documents.content.decode()
    assert "Compte rendu de téléconsultation" in page and "Ordonnance" in page
    assert log.status_code == 200
    assert "Lefèvre" in log.content.decode()


def test_the_pdf_holds_what_the_record_must_keep(personas: Any, call: Any) -> None:
    report = actions.close(personas.cardiologist.user, call.uuid, CONTENT)
    act = RecordedAct.objects.get(report=report)
    html = render_to_string(
        "acts/report_pdf.html",
        {"report": report, "act": act, "consultation": call, "patient": personas.patient,
         "doctor": personas.cardiologist, **act_shown(act)},
    )  # fmt: skip
    for expected in (CONTENT.conclusion, CONTENT.prescriptions, personas.cardiologist.rpps, "TC"):
        assert expected in html
    assert write_once.render_report(report, act).startswith(b"%PDF")


def test_a_closed_report_is_never_written_again(personas: Any, call: Any) -> None:
    doctor = personas.cardiologist.user
    actions.close(doctor, call.uuid, CONTENT)

    with pytest.raises(actions.ReportRuleBroken):
        actions.save_draft(doctor, call.uuid, actions.ReportContent(conclusion="Autre chose"))
    with pytest.raises(actions.ReportRuleBroken):
        actions.close(doctor, call.uuid, CONTENT)

    assert Report.objects.get(consultation=call).conclusion == CONTENT.conclusion
    assert Document.objects.filter(patient=personas.patient).count() == 2
    assert (
        AuditEntry.objects.filter(
            actor=doctor, action=Action.TELECONSULT_WRITE, outcome=Outcome.FAILED
        ).count()
        == 2
    )


def test_closing_needs_a_reason_a_conclusion_and_an_orientation(personas: Any, call: Any) -> None:
    doctor = personas.cardiologist.user
    for missing in ("reason", "conclusion", "orientation"):
        content = actions.ReportContent(**{**CONTENT.__dict__, missing: ""})
        with pytest.raises(actions.ReportRuleBroken) as refused:
            actions.close(doctor, call.uuid, content)
        assert refused.value.field == missing
    assert not Report.objects.filter(status=ReportStatus.CLOSED).exists()


def test_the_page_saves_then_closes(personas: Any, call: Any) -> None:
    client = _client(personas.cardiologist.user)
    url = reverse("acts:report", args=[call.uuid])
    form = {**CONTENT.__dict__}

    page = client.get(url)
    saved = client.post(url, {**form, "save": ""})
    empty = client.post(url, {**form, "conclusion": "", "close": ""})
    closed = client.post(url, {**form, "emergency": "on", "close": ""})

    assert page.status_code == 200 and "Facturation de la téléconsultation" in page.content.decode()
    assert saved.status_code == 302
    assert empty.status_code == 400 and "avant de clore" in empty.content.decode()
    assert closed.status_code == 302
    assert RecordedAct.objects.get(consultation=call).rule == "emergency"
    shown = client.get(url).content.decode()
    assert CONTENT.conclusion.replace("'", "&#x27;") in shown


def test_a_closed_act_counts_in_the_doctors_year(personas: Any, call: Any) -> None:
    from django.utils import timezone

    from maillage.acts.facts import gather

    before = gather(personas.patient, personas.cardiologist, timezone.now())
    actions.close(personas.cardiologist.user, call.uuid, CONTENT)
    after = gather(personas.patient, personas.cardiologist, timezone.now())

    assert (before.year_acts, before.year_remote_capped) == (0, 0)
    assert (after.year_acts, after.year_remote_capped) == (1, 1)
