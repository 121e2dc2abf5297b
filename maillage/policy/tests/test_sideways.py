"""Findings 1, 5, 6 and 8 of the review, written as the attacks that found them.

Data moving sideways: a masked document sent as an attachment, the two gates
that disagreed, entries that said "granted" for what did not happen, and
mail leaving for any address.
"""

from __future__ import annotations

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import document, in_care_team
from maillage.front.tests.test_home import signed_in
from maillage.messaging import actions
from maillage.messaging.models import Attachment, Thread
from maillage.messaging.tests.conftest import PDF
from maillage.policy.gate import (
    DocumentNotFound,
    PatientNotFound,
    allowed,
    get_document,
    open_record,
)
from maillage.records import actions as record_actions
from maillage.records.models import Consent, ConsentKind, DocumentStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_files")]


@pytest.fixture
def private_files(settings, tmp_path) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "file-keys.json")
    settings.MAILLAGE_FILE_KEYS = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _masked_report(personas):
    """The patient masks her teleconsultation report and opposes the cardiologist."""
    report = document(personas.treating_doctor, personas.patient, title="CR téléconsultation")
    record_actions.mask_document(personas.patient_user, report)
    record_actions.oppose_professional(
        personas.patient_user, personas.patient, personas.cardiologist
    )
    return report


def _send(personas, report, *to):
    return actions.send_message(
        personas.treating_doctor.user,
        actions.Draft(
            subject="Mme Girard",
            body="Pour information.",
            professionals=list(to),
            patient_uuid=personas.patient.uuid,
            documents=[report.uuid],
        ),
    )


@pytest.mark.parametrize("receiver", ["nurse", "cardiologist"])
def test_a_masked_document_never_leaves_as_an_attachment(personas, receiver) -> None:
    report = _masked_report(personas)
    target = getattr(personas, receiver)
    in_care_team(personas.nurse, personas.patient)

    with pytest.raises(actions.MessagingRuleBroken) as refused:
        _send(personas, report, target)

    # The sender is told whom, never why; nothing was sent.
    assert target.display_name in refused.value.message
    assert "masqu" not in refused.value.message.lower()
    assert not Thread.objects.exists() and not Attachment.objects.exists()
    refusal = AuditEntry.objects.filter(
        patient=personas.patient, outcome=Outcome.DENIED, detail__receiver=f"user:{target.user.pk}"
    ).latest("seq")
    assert refusal.detail["rule"] in {"masked", "opposed_professional"}
    send = AuditEntry.objects.filter(action=Action.MESSAGE_SEND).latest("seq")
    assert send.outcome == Outcome.FAILED and send.detail["failure"] == "receiver_refused"


def test_the_opposed_cardiologist_gets_no_message_about_her_at_all(personas) -> None:
    record_actions.oppose_professional(
        personas.patient_user, personas.patient, personas.cardiologist
    )
    with pytest.raises(actions.MessagingRuleBroken):
        actions.send_message(
            personas.treating_doctor.user,
            actions.Draft(
                subject="Avis",
                body="Que pensez-vous de son ECG ?",
                professionals=[personas.cardiologist],
                patient_uuid=personas.patient.uuid,
            ),
        )
    assert not Thread.objects.exists()


def test_a_document_masked_after_it_was_sent_is_unreachable_by_every_url(personas) -> None:
    report = document(personas.treating_doctor, personas.patient, title="CR")
    in_care_team(personas.nurse, personas.patient)
    message = _send(personas, report, personas.nurse)
    attachment = message.attachments.get()
    nurse = signed_in(personas.nurse.user)
    download = f"/messagerie/{message.thread.uuid}/pieces-jointes/{attachment.uuid}/"
    assert nurse.get(download).status_code == 200

    record_actions.mask_document(personas.patient_user, report)

    assert nurse.get(download).status_code == 404
    from maillage.fhir.tests.conftest import Api

    api = Api(nurse)
    assert api.get(f"Binary/{attachment.file.uuid}", personas.nurse).status_code == 404
    assert nurse.get(f"/dossier/documents/{report.uuid}/").status_code == 404
    # Each refusal is on her trail, with the rule.
    refusals = AuditEntry.objects.filter(
        patient=personas.patient, actor=personas.nurse.user, outcome=Outcome.DENIED
    )
    assert refusals.count() >= 2
    assert {"masked"} <= {e.detail.get("rule") for e in refusals}


def test_an_opposed_doctor_is_offered_no_record_link_and_gets_none(personas) -> None:
    """The two gates disagreed: may() said yes, open_record said no. One decision now."""
    gp = personas.treating_doctor
    Consent.objects.create(
        patient=personas.patient,
        kind=ConsentKind.OPPOSE_PROFESSIONAL,
        professional=gp,
        recorded_by=personas.patient_user,
    )
    assert not allowed(gp.user, personas.patient, Action.RECORD_READ)
    with pytest.raises(PatientNotFound):
        open_record(gp.user, personas.patient)
    # And the identity page too (finding 12): the opposition closes every purpose.
    assert signed_in(gp.user).get(f"/patients/{personas.patient.uuid}/").status_code == 404


def test_refused_sharing_hides_masked_documents_from_the_treating_doctor_too(personas) -> None:
    """The rule order let the médecin traitant see masked documents, not unmasked ones."""
    masked = document(personas.nurse, personas.patient, title="Masqué")
    plain = document(personas.nurse, personas.patient, title="Ordinaire")
    own = document(personas.treating_doctor, personas.patient, title="Le sien")
    in_care_team(personas.nurse, personas.patient)
    record_actions.mask_document(personas.patient_user, masked)
    record_actions.set_sharing(personas.patient_user, personas.patient, granted=False)

    shown = open_record(personas.treating_doctor.user, personas.patient).documents()

    assert [d.pk for d in shown] == [own.pk]
    for hidden in (masked, plain):
        with pytest.raises(DocumentNotFound):
            get_document(personas.treating_doctor.user, hidden.uuid)
    entry = AuditEntry.objects.filter(action=Action.DOCUMENT_READ).latest("seq")
    assert entry.detail["rule"] == "sharing_refused"


def test_withdrawing_a_version_that_is_not_current_is_a_failure_not_a_grant(personas) -> None:
    report = document(personas.treating_doctor, personas.patient)
    report.status = DocumentStatus.REPLACED
    report.save(update_fields=["status"])

    with pytest.raises(record_actions.RecordRuleBroken):
        record_actions.withdraw_document(personas.treating_doctor.user, report, "Erreur")

    entry = AuditEntry.objects.filter(action=Action.DOCUMENT_WITHDRAW).get()
    assert entry.outcome == Outcome.FAILED and entry.detail["failure"] == "not_current"
    report.refresh_from_db()
    assert report.status == DocumentStatus.REPLACED


def test_filing_a_type_the_role_may_not_write_is_not_audited_as_granted(personas) -> None:
    in_care_team(personas.nurse, personas.patient)
    with pytest.raises(record_actions.RecordRuleBroken):
        record_actions.file_document(
            personas.nurse.user,
            personas.patient,
            record_actions.NewDocument(type="prescription", title="Ordonnance", date=_today()),
            uploads=[actions.Upload("o.pdf", PDF)],
        )
    entry = AuditEntry.objects.get(action=Action.DOCUMENT_CREATE)
    assert entry.outcome == Outcome.FAILED and entry.detail["failure"] == "habilitation"


def test_a_refused_edit_is_audited_as_a_refused_edit(personas) -> None:
    """The regulator's refused edit was audited as a granted read."""
    response = signed_in(personas.social_worker).get(f"/patients/{personas.patient.uuid}/modifier/")
    assert response.status_code == 404
    entry = AuditEntry.objects.filter(action=Action.PATIENT_UPDATE).get()
    assert entry.outcome == Outcome.DENIED and entry.detail["rule"] == "role"
    assert entry.patient == personas.patient


@pytest.mark.parametrize(
    "address", ["quelquun@gmail.com", "labo@mssante.fr.evil.example", "x@notmssante.fr"]
)
def test_outside_mail_leaves_only_for_trusted_domains(personas, address) -> None:
    with pytest.raises(actions.MessagingRuleBroken) as refused:
        actions.send_message(
            personas.treating_doctor.user,
            actions.Draft(
                subject="Résultats",
                body="Résultats de Mme Girard",
                addresses=[address],
                patient_uuid=personas.patient.uuid,
            ),
        )
    assert address in refused.value.message
    assert not Thread.objects.exists()


def test_trusted_outside_mail_names_the_address_on_her_trail(personas) -> None:
    message = actions.send_message(
        personas.treating_doctor.user,
        actions.Draft(
            subject="Résultats",
            body="Résultats de Mme Girard",
            addresses=["labo.bourges@biologie.mssante.fr"],
            patient_uuid=personas.patient.uuid,
        ),
    )
    send = AuditEntry.objects.get(action=Action.MESSAGE_SEND)
    assert send.detail["outside"] == ["labo.bourges@biologie.mssante.fr"]
    received = AuditEntry.objects.get(action=Action.MESSAGE_RECEIVE)
    assert received.detail["receiver"] == "mail:labo.bourges@biologie.mssante.fr"
    assert message.thread.patient == personas.patient


def _today():
    import datetime as dt

    return dt.date(2026, 12, 1)
