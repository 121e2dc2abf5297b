"""Writers of the record: filing, versions, withdrawal, consents, break-the-glass, review."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.files import storage
from maillage.policy.consents import record_state
from maillage.policy.gate import DocumentNotFound, PatientNotFound, get_document, open_record
from maillage.records import actions
from maillage.records.models import (
    BreakGlassAccess,
    CareTeamMember,
    Consent,
    ConsentKind,
    Document,
    DocumentStatus,
    DocumentType,
    ReviewOutcome,
)
from maillage.records.tests.conftest import PDF

REPORT = actions.NewDocument(
    DocumentType.TELECONSULTATION_REPORT, "CR du 2 novembre", dt.date(2026, 11, 2)
)
REASON = "Patiente inconsciente aux urgences de Bourges, allergies inconnues"


@pytest.mark.django_db
def test_the_treating_doctor_files_a_report_with_two_files(personas) -> None:
    doctor = personas.treating_doctor.user
    document = actions.file_document(
        doctor,
        personas.patient,
        REPORT,
        uploads=[
            actions.Upload("cr.pdf", PDF),
            actions.Upload("photo.png", b"\x89PNG\r\n\x1a\n..."),
        ],
    )
    assert [df.file.original_name for df in document.document_files.all()] == [
        "cr.pdf",
        "photo.png",
    ]
    assert storage.read(document.document_files.all()[0].file) == PDF
    entry = AuditEntry.objects.get(action=Action.DOCUMENT_CREATE)
    assert (entry.outcome, entry.basis, entry.detail) == (
        Outcome.GRANTED,
        "treating_doctor",
        {"type": DocumentType.TELECONSULTATION_REPORT, "document": str(document.uuid)},
    )


@pytest.mark.django_db
def test_a_bad_file_stops_everything_before_the_gate(personas) -> None:
    with pytest.raises(storage.RejectedUpload):
        actions.file_document(
            personas.treating_doctor.user,
            personas.patient,
            REPORT,
            uploads=[actions.Upload("ok.pdf", PDF), actions.Upload("x.exe", b"MZ\x90")],
        )
    assert not Document.objects.exists()
    assert not AuditEntry.objects.filter(action=Action.DOCUMENT_CREATE).exists()


@pytest.mark.django_db
def test_outsiders_and_unhabilitated_types_cannot_file(personas) -> None:
    with pytest.raises(PatientNotFound):
        actions.file_document(
            personas.cardiologist.user,
            personas.patient,
            REPORT,
            uploads=[actions.Upload("cr.pdf", PDF)],
        )
    nurse = personas.nurse
    CareTeamMember.objects.create(patient=personas.patient, professional=nurse, reason="named")
    with pytest.raises(actions.RecordRuleBroken):
        actions.file_document(
            nurse.user, personas.patient, REPORT, uploads=[actions.Upload("cr.pdf", PDF)]
        )
    photo = actions.NewDocument(DocumentType.PHOTO, "Plaie du talon", dt.date(2026, 11, 2))
    assert actions.file_document(
        nurse.user,
        personas.patient,
        photo,
        uploads=[actions.Upload("talon.jpg", b"\xff\xd8\xff\xe0")],
    )
    assert not Document.objects.filter(type=DocumentType.TELECONSULTATION_REPORT).exists()


@pytest.mark.django_db
def test_a_new_version_keeps_the_old_one(personas) -> None:
    doctor = personas.treating_doctor.user
    first = actions.file_document(
        doctor, personas.patient, REPORT, uploads=[actions.Upload("a.pdf", PDF)]
    )
    second = actions.replace_document(doctor, first, REPORT, [actions.Upload("b.pdf", PDF)])
    first.refresh_from_db()
    assert (first.status, second.replaces) == (DocumentStatus.REPLACED, first)
    with pytest.raises(actions.RecordRuleBroken):
        actions.replace_document(doctor, first, REPORT, [actions.Upload("c.pdf", PDF)])
    assert Document.objects.count() == 2


@pytest.mark.django_db
def test_only_the_author_withdraws_and_history_stays(personas) -> None:
    doctor = personas.treating_doctor.user
    document = actions.file_document(
        doctor, personas.patient, REPORT, uploads=[actions.Upload("a.pdf", PDF)]
    )
    nurse = personas.nurse
    CareTeamMember.objects.create(patient=personas.patient, professional=nurse, reason="named")
    with pytest.raises(actions.RecordRuleBroken):
        actions.withdraw_document(nurse.user, document, "erreur")
    with pytest.raises(actions.RecordRuleBroken):
        actions.withdraw_document(doctor, document, "  ")
    actions.withdraw_document(doctor, document, "Mauvais patient")
    document.refresh_from_db()
    assert (document.status, document.withdrawn_reason) == (
        DocumentStatus.WITHDRAWN,
        "Mauvais patient",
    )
    # Still there for its author and the médecin traitant; gone for the others.
    assert get_document(doctor, document.uuid)
    with pytest.raises(DocumentNotFound):
        get_document(nurse.user, document.uuid)


@pytest.mark.django_db
def test_consents_are_dated_statements_never_erased(personas, documents) -> None:
    me = personas.patient_user
    patient = personas.patient
    actions.set_sharing(me, patient, granted=False)
    actions.set_sharing(me, patient, granted=True)
    opposition = actions.oppose_professional(me, patient, personas.cardiologist)
    mask = actions.mask_document(me, documents[DocumentType.LAB_RESULTS])
    with pytest.raises(actions.RecordRuleBroken):
        actions.mask_document(me, documents[DocumentType.LAB_RESULTS])
    state = record_state(patient)
    assert not state.sharing_refused
    assert state.opposed_professionals == {personas.cardiologist.pk}
    assert state.masked_documents == {documents[DocumentType.LAB_RESULTS].pk}
    actions.withdraw_consent(me, opposition)
    actions.withdraw_consent(me, mask)
    state = record_state(patient)
    assert state.opposed_professionals == frozenset() and state.masked_documents == frozenset()
    assert Consent.objects.filter(patient=patient).count() == 4
    assert (
        AuditEntry.objects.filter(action=Action.CONSENT_CHANGE, outcome=Outcome.GRANTED).count()
        == 6
    )


@pytest.mark.django_db
def test_only_the_patient_decides_on_consents(personas) -> None:
    with pytest.raises(PatientNotFound):
        actions.set_sharing(personas.treating_doctor.user, personas.patient, granted=False)
    assert not Consent.objects.exists()


@pytest.mark.django_db
def test_break_the_glass_opens_for_a_while_and_tells_the_patient(
    personas, settings, django_capture_on_commit_callbacks
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    personas.patient_user.email = "micheline@example.org"
    personas.patient_user.save(update_fields=["email"])
    cardiologist = personas.cardiologist.user
    with pytest.raises(PatientNotFound):
        open_record(cardiologist, personas.patient)
    with pytest.raises(actions.RecordRuleBroken):
        actions.break_glass(cardiologist, personas.patient.uuid, "urgence")  # too short
    with pytest.raises(actions.RecordRuleBroken):
        actions.break_glass(personas.coordinator, personas.patient.uuid, REASON)
    with django_capture_on_commit_callbacks(execute=True):
        access = actions.break_glass(cardiologist, personas.patient.uuid, REASON)
    assert access.expires_at - access.started_at == dt.timedelta(hours=4)
    assert open_record(cardiologist, personas.patient).relation == "break_glass"
    entry = AuditEntry.objects.filter(action=Action.BREAK_GLASS).latest("seq")
    assert (entry.outcome, entry.basis, entry.reason) == (Outcome.GRANTED, "break_glass", REASON)
    assert len(mail.outbox) == 1
    notice = mail.outbox[0]
    assert notice.to == ["micheline@example.org"]
    assert "GIRARD" not in notice.body and REASON not in notice.body
    BreakGlassAccess.objects.filter(pk=access.pk).update(expires_at=timezone.now())
    with pytest.raises(PatientNotFound):
        open_record(cardiologist, personas.patient)


@pytest.mark.django_db
def test_break_the_glass_is_refused_when_the_patient_opposed_it(personas) -> None:
    actions.oppose_emergency_access(personas.patient_user, personas.patient)
    with pytest.raises(actions.RecordRuleBroken) as caught:
        actions.break_glass(personas.cardiologist.user, personas.patient.uuid, REASON)
    assert "opposed" in caught.value.message or "opposé" in caught.value.message
    assert not BreakGlassAccess.objects.exists()
    entry = AuditEntry.objects.filter(action=Action.BREAK_GLASS).latest("seq")
    assert (entry.outcome, entry.patient) == (Outcome.DENIED, personas.patient)
    # An opposition to this professional forbids their emergency access too.
    other = personas.patient
    Consent.objects.filter(kind=ConsentKind.OPPOSE_EMERGENCY).update(withdrawn_at=timezone.now())
    actions.oppose_professional(personas.patient_user, other, personas.cardiologist)
    with pytest.raises(actions.RecordRuleBroken):
        actions.break_glass(personas.cardiologist.user, other.uuid, REASON)


@pytest.mark.django_db
def test_break_the_glass_finds_the_patient_from_the_documents_in_hand(personas) -> None:
    from maillage.policy.relations import IdentityEvidence

    by_matricule = IdentityEvidence("", personas.patient.ins_matricule)
    access = actions.break_glass(personas.cardiologist.user, None, REASON, by_matricule)
    assert access.patient == personas.patient
    with pytest.raises(PatientNotFound):
        actions.break_glass(
            personas.cardiologist.user, None, REASON, IdentityEvidence("NOBODY|HERE|2000-01-01")
        )


@pytest.mark.django_db
def test_an_administrator_reviews_each_access_once(personas) -> None:
    access = actions.break_glass(personas.cardiologist.user, personas.patient.uuid, REASON)
    with pytest.raises(actions.RecordRuleBroken):
        actions.review_break_glass(
            personas.treating_doctor.user, access, ReviewOutcome.JUSTIFIED, ""
        )
    actions.review_break_glass(
        personas.admin, access, ReviewOutcome.JUSTIFIED, "Passage aux urgences confirmé"
    )
    with pytest.raises(actions.RecordRuleBroken):
        actions.review_break_glass(personas.admin, access, ReviewOutcome.UNJUSTIFIED, "")
    access.refresh_from_db()
    assert (access.review_outcome, access.reviewed_by) == (ReviewOutcome.JUSTIFIED, personas.admin)
    assert AuditEntry.objects.filter(
        action=Action.BREAK_GLASS_REVIEW, patient=personas.patient
    ).exists()


@pytest.mark.django_db
def test_an_act_brings_a_professional_in_for_a_while(personas) -> None:
    member = actions.add_for_act(
        personas.treating_doctor.user, personas.patient.uuid, personas.nurse, days=30
    )
    assert member.valid_until and member.valid_until > timezone.now() + dt.timedelta(days=29)
    assert open_record(personas.nurse.user, personas.patient).relation == "care_team"
    with pytest.raises(actions.RecordRuleBroken):
        actions.add_for_act(
            personas.treating_doctor.user, personas.patient.uuid, personas.nurse, days=0
        )
    with pytest.raises(PatientNotFound):
        actions.add_for_act(
            personas.cardiologist.user, personas.patient.uuid, personas.cardiologist, days=3
        )
