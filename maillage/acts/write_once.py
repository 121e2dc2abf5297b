"""Written once: the report and the prescription as PDFs, filed in the record and sent.

The PDFs (WeasyPrint, from ``acts/report_pdf.html`` and
``acts/prescription_pdf.html``) hold what CSP R.6316-4 asks the record to
keep: the report, the prescriptions, the professionals, date and time, the
technical incidents, with the act's billing. The doctor files them as a
"teleconsultation report" and a "prescription" (``records.actions``: the
record's gate, the habilitation matrix), where the patient finds them in her
documents (and is told by a notice), then sends them to the médecin traitant
by secure messaging (``messaging.actions``: each receiver decided by the
policy; an outside MSSanté address through the gateway). Runs in the
closing's transaction (``actions.close``). A refusal is said on the report
(``problem``) and never undoes the closing or the other sends.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from maillage.accounts.notify import send_notice
from maillage.acts.labels import act_shown
from maillage.acts.models import RecordedAct, Report
from maillage.files.storage import Upload
from maillage.measurements.of_act import of_act
from maillage.messaging import actions as messaging
from maillage.policy.gate import PatientNotFound
from maillage.records import actions as records
from maillage.records.models import Document, DocumentType

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.directory.models import Professional

logger = logging.getLogger(__name__)


def _html(
    template: str, report: Report, act: RecordedAct, more: dict[str, Any] | None = None
) -> str:
    consultation = report.consultation
    return render_to_string(
        template,
        {
            "report": report,
            "act": act,
            "consultation": consultation,
            "patient": consultation.patient,
            "doctor": consultation.doctor,
            "structure": consultation.doctor.structures.order_by("pk").first(),
            "printed_at": timezone.now(),
            **act_shown(act),
            **(more or {}),
        },
    )


def _pdf(html: str) -> bytes:
    import weasyprint  # type: ignore[import-untyped]

    return bytes(weasyprint.HTML(string=html).write_pdf())


def report_html(report: Report, act: RecordedAct) -> str:
    """The report as the PDF prints it, with the act's readings and marked photos.

    Gathered for the report's author, the act's doctor, through the policy
    (``measurements.of_act``: one audited read), never retyped.
    """
    consultation = report.consultation
    author = consultation.doctor.user
    readings = of_act(author, consultation, embed=True) if author is not None else None
    more = readings.as_context() if readings is not None else {}
    return _html("acts/report_pdf.html", report, act, more)


def render_report(report: Report, act: RecordedAct) -> bytes:
    return _pdf(report_html(report, act))


def render_prescription(report: Report, act: RecordedAct) -> bytes:
    return _pdf(_html("acts/prescription_pdf.html", report, act))


def file_and_send(doctor: User, report: Report, act: RecordedAct) -> None:
    """File the report (and the prescription, if any) in the record, then send them."""
    short = str(report.uuid)[:8]
    day = act.day
    with translation.override("fr"):
        report_pdf = render_report(report, act)
        prescription_pdf = render_prescription(report, act) if report.prescriptions else None
        report_title = _("Teleconsultation report of %(day)s") % {"day": day.strftime("%d/%m/%Y")}
        prescription_title = _("Prescription of %(day)s") % {"day": day.strftime("%d/%m/%Y")}
    problems: list[str] = []
    patient = report.consultation.patient
    try:
        document = records.file_document(
            doctor,
            patient,
            records.NewDocument(
                type=DocumentType.TELECONSULTATION_REPORT, title=report_title, date=day
            ),
            uploads=[Upload(f"compte-rendu-teleconsultation-{short}.pdf", report_pdf)],
        )
        prescription = None
        if prescription_pdf is not None:
            prescription = records.file_document(
                doctor,
                patient,
                records.NewDocument(
                    type=DocumentType.PRESCRIPTION, title=prescription_title, date=day
                ),
                uploads=[Upload(f"ordonnance-{short}.pdf", prescription_pdf)],
            )
    except (records.RecordRuleBroken, PatientNotFound) as refused:
        message = getattr(refused, "message", "") or _("the record refused it")
        _say(report, _("The report could not be filed: %(why)s") % {"why": message})
        return
    Report.objects.filter(pk=report.pk).update(document=document, prescription=prescription)
    documents = [d for d in (document, prescription) if d is not None]
    for professional, address in receivers_of(report):
        # No savepoint: the checks come before any write, and a refusal's
        # audit entry (the receiver and the rule) must stay with the closing.
        try:
            _send(doctor, report, documents, professional, address)
        except (messaging.MessagingRuleBroken, PatientNotFound) as refused:
            problems.append(professional.display_name if professional is not None else address)
            logger.info("report %s not sent to a receiver: %s", report.uuid, refused)
    tell_patient(report)
    if problems:
        _say(report, _("The report could not be sent to: %(who)s.") % {"who": ", ".join(problems)})


def _say(report: Report, problem: str) -> None:
    Report.objects.filter(pk=report.pk).update(problem=problem[:300])


def _send(
    doctor: User,
    report: Report,
    documents: list[Document],
    professional: Professional | None,
    address: str,
) -> None:
    patient = report.consultation.patient
    messaging.send_message(
        doctor,
        messaging.Draft(
            subject=_("Teleconsultation report — %(name)s") % {"name": patient.display_name},
            body=_(
                "The report of the teleconsultation of your patient is attached, with the "
                "prescription if there is one. Both are also filed in the shared record."
            ),
            professionals=[professional] if professional is not None else [],
            addresses=[address] if address else [],
            patient_uuid=patient.uuid,
            documents=[d.uuid for d in documents],
        ),
    )


def receivers_of(report: Report) -> list[tuple[Professional | None, str]]:
    """The médecin traitant, unless she is the act's doctor: her account, else her MSSanté box."""
    consultation = report.consultation
    treating = consultation.patient.treating_doctor
    if treating is None or treating.pk == consultation.doctor_id:
        return []
    if treating.user_id is not None:
        return [(treating, "")]
    if treating.secure_messaging_address:
        return [(None, treating.secure_messaging_address)]
    return []


def tell_patient(report: Report) -> bool:
    """The patient is told her report is in her documents (a notice, no health data in it)."""
    user = report.consultation.patient.user
    if user is None:
        return False
    return send_notice(
        user,
        _("Maillage: the report of your teleconsultation"),
        [_("The report of your teleconsultation is in your documents.")],
        reverse("records:my_documents"),
        key=f"acts-report-{report.uuid}",
    )
