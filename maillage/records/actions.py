"""The only writers of the shared record. Each passes a gate and is audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome
from maillage.files import storage
from maillage.files.models import StoredFile
from maillage.files.storage import Upload
from maillage.policy.consents import record_state
from maillage.policy.decide import Rule, emergency_refusal
from maillage.policy.gate import (
    Grant,
    PatientNotFound,
    RecordAccess,
    authorize,
    find_by_evidence,
    load_patient,
    record_for_change,
)
from maillage.policy.relations import IdentityEvidence, Relation
from maillage.policy.table import BREAK_GLASS_ROLES
from maillage.records import notifications
from maillage.records.models import (
    BreakGlassAccess,
    CareTeamMember,
    CareTeamReason,
    Consent,
    ConsentKind,
    Document,
    DocumentFile,
    DocumentStatus,
    ReviewOutcome,
)

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.directory.models import Professional
    from maillage.patients.models import Patient


class RecordRuleBroken(Exception):
    """An action refused by a rule of the record; ``message`` is for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class NewDocument:
    type: str
    title: str
    date: dt.date
    hidden_from_patient: bool = False
    hidden_from_legal_representatives: bool = False
    # The LOINC type code as a client sent it (FHIR API), kept as sent.
    loinc_code: str = ""
    loinc_display: str = ""


def _check_all(uploads: Sequence[Upload]) -> None:
    """Refuse a bad file before the gate records anything (RejectedUpload)."""
    for upload in uploads:
        storage.check(upload.data, upload.name)


def _store_all(uploads: Sequence[Upload], by: User) -> list[StoredFile]:
    return [storage.store(u.data, u.name, by=by) for u in uploads]


def _check_writable(access: RecordAccess, grant: Grant, doc_type: str) -> None:
    if doc_type not in access.writable_types():
        grant.failed(Rule.HABILITATION)
        raise RecordRuleBroken(_("Your role may not add this type of document to the record."))


def file_document(
    user: User,
    patient: Patient,
    new: NewDocument,
    *,
    uploads: Sequence[Upload] = (),
    files: Sequence[StoredFile] = (),
) -> Document:
    """Add a document with one or more files to a patient's record."""
    if not uploads and not files:
        raise RecordRuleBroken(_("Attach at least one file."))
    _check_all(uploads)
    access, grant = record_for_change(
        user, patient, Action.DOCUMENT_CREATE, detail={"type": new.type}
    )
    _check_writable(access, grant, new.type)
    stored = [*files, *_store_all(uploads, user)]
    with transaction.atomic():
        document = Document.objects.create(
            patient=patient,
            type=new.type,
            title=new.title.strip(),
            date=new.date,
            author=user,
            author_label=user.display_name,
            hidden_from_patient=new.hidden_from_patient,
            hidden_from_legal_representatives=new.hidden_from_legal_representatives,
            loinc_code=new.loinc_code,
            loinc_display=new.loinc_display,
        )
        DocumentFile.objects.bulk_create(
            [DocumentFile(document=document, file=f, position=i) for i, f in enumerate(stored)]
        )
        grant.done(document=str(document.uuid))
    return document


def replace_document(
    user: User, document: Document, new: NewDocument, uploads: Sequence[Upload]
) -> Document:
    """A new version: the old one stays, marked replaced and linked."""
    if document.status != DocumentStatus.CURRENT:
        raise RecordRuleBroken(_("Only the current version of a document can be replaced."))
    if document.author_id != user.pk:
        raise RecordRuleBroken(_("Only the author of a document can replace it."))
    _check_all(uploads)
    access, grant = record_for_change(
        user,
        document.patient,
        Action.DOCUMENT_REPLACE,
        detail={"document": str(document.uuid)},
    )
    _check_writable(access, grant, new.type)
    stored = _store_all(uploads, user)
    with transaction.atomic():
        # Lock the old version so that two replacements cannot both win.
        updated = Document.objects.filter(pk=document.pk, status=DocumentStatus.CURRENT).update(
            status=DocumentStatus.REPLACED
        )
        newer = None if updated != 1 else _write_version(user, document, new, stored, grant)
    if newer is None:
        # Outside the rolled-back transaction, so the entry stays.
        grant.failed("not_current")
        raise RecordRuleBroken(_("This document was replaced meanwhile."))
    return newer


def _loinc_of_version(document: Document, new: NewDocument) -> dict[str, str]:
    """The LOINC code of a new version: as sent, else the replaced one's if the type stays.

    A version filed from the pages carries no LOINC code; the one the
    client sent for the first version still says what the document is.
    """
    if new.loinc_code or new.type != document.type:
        return {"loinc_code": new.loinc_code, "loinc_display": new.loinc_display}
    return {"loinc_code": document.loinc_code, "loinc_display": document.loinc_display}


def _write_version(
    user: User, document: Document, new: NewDocument, stored: list[StoredFile], grant: Grant
) -> Document:
    newer = Document.objects.create(
        patient=document.patient,
        type=new.type,
        title=new.title.strip(),
        date=new.date,
        author=user,
        author_label=user.display_name,
        replaces=document,
        hidden_from_patient=new.hidden_from_patient,
        hidden_from_legal_representatives=new.hidden_from_legal_representatives,
        **_loinc_of_version(document, new),
    )
    DocumentFile.objects.bulk_create(
        [DocumentFile(document=newer, file=f, position=i) for i, f in enumerate(stored)]
    )
    grant.done(new_version=str(newer.uuid))
    return newer


def withdraw_document(user: User, document: Document, reason: str) -> None:
    """Withdraw a document written in error; it stays in the history."""
    if document.author_id != user.pk:
        raise RecordRuleBroken(_("Only the author of a document can withdraw it."))
    if not reason.strip():
        raise RecordRuleBroken(_("Say why the document is withdrawn."))
    _access, grant = record_for_change(
        user,
        document.patient,
        Action.DOCUMENT_WITHDRAW,
        detail={"document": str(document.uuid)},
    )
    with transaction.atomic():
        updated = Document.objects.filter(pk=document.pk, status=DocumentStatus.CURRENT).update(
            status=DocumentStatus.WITHDRAWN,
            withdrawn_at=timezone.now(),
            withdrawn_reason=reason.strip()[:300],
        )
        if updated == 1:
            grant.done()
    if updated != 1:
        grant.failed("not_current")
        raise RecordRuleBroken(_("Only the current version of a document can be withdrawn."))


# --- Care team ----------------------------------------------------------------


def name_in_care_team(patient_user: User, patient: Patient, professional: Professional) -> None:
    """The patient names a professional of their care team."""
    grant = authorize(
        patient_user,
        patient,
        Action.CONSENT_CHANGE,
        detail={"care_team_add": str(professional.uuid)},
    )
    with transaction.atomic():
        CareTeamMember.objects.create(
            patient=patient,
            professional=professional,
            reason=CareTeamReason.NAMED_BY_PATIENT,
            added_by=patient_user,
        )
        grant.done()


def add_for_act(
    user: User, patient_uuid: object, professional: Professional, *, days: int
) -> CareTeamMember:
    """Someone who may write in the record brings a professional in for an act, for a while."""
    if not 1 <= days <= 365:
        raise RecordRuleBroken(_("An act gives a place in the care team for 1 to 365 days."))
    patient = load_patient(patient_uuid)
    if patient is None:
        raise PatientNotFound
    _access, grant = record_for_change(
        user,
        patient,
        Action.CARE_TEAM_CHANGE,
        detail={"professional": str(professional.uuid), "days": str(days)},
    )
    with transaction.atomic():
        member = CareTeamMember.objects.create(
            patient=patient,
            professional=professional,
            reason=CareTeamReason.ACT,
            valid_until=timezone.now() + dt.timedelta(days=days),
            added_by=user,
        )
        grant.done()
    return member


def end_care_team_place(patient_user: User, member: CareTeamMember) -> None:
    grant = authorize(
        patient_user,
        member.patient,
        Action.CONSENT_CHANGE,
        detail={"care_team_end": str(member.professional.uuid)},
    )
    _close(
        grant,
        CareTeamMember.objects.filter(pk=member.pk, ended_at__isnull=True),
        ended_at=timezone.now(),
    )


def _close(grant: Grant, rows: QuerySet[Any], **changes: object) -> None:
    """Apply a one-row change; the entry says whether it changed anything."""
    with transaction.atomic():
        if rows.update(**changes) == 1:
            grant.done()
            return
    grant.failed("already_ended")
    raise RecordRuleBroken(_("This was already ended."))


# --- Consents -------------------------------------------------------------------


def _consent(patient_user: User, patient: Patient, kind: str, **fields: object) -> Consent:
    grant = authorize(patient_user, patient, Action.CONSENT_CHANGE, detail={"kind": kind})
    with transaction.atomic():
        consent = Consent.objects.create(
            patient=patient, kind=kind, recorded_by=patient_user, **fields
        )
        grant.done(consent=str(consent.uuid))
    return consent


def set_sharing(patient_user: User, patient: Patient, *, granted: bool) -> Consent:
    return _consent(patient_user, patient, ConsentKind.SHARING, granted=granted)


def oppose_professional(
    patient_user: User, patient: Patient, professional: Professional
) -> Consent:
    return _consent(
        patient_user, patient, ConsentKind.OPPOSE_PROFESSIONAL, professional=professional
    )


def oppose_emergency_access(patient_user: User, patient: Patient) -> Consent:
    return _consent(patient_user, patient, ConsentKind.OPPOSE_EMERGENCY)


def mask_document(patient_user: User, document: Document) -> Consent:
    if document.pk in record_state(document.patient).masked_documents:
        raise RecordRuleBroken(_("This document is already masked."))
    return _consent(patient_user, document.patient, ConsentKind.MASK_DOCUMENT, document=document)


def withdraw_consent(patient_user: User, consent: Consent) -> None:
    """End an opposition or a mask; the statement itself stays in the history."""
    grant = authorize(
        patient_user, consent.patient, Action.CONSENT_CHANGE, detail={"withdraw": str(consent.uuid)}
    )
    _close(
        grant,
        Consent.objects.filter(pk=consent.pk, withdrawn_at__isnull=True),
        withdrawn_at=timezone.now(),
    )


# --- Break-the-glass ----------------------------------------------------------------


MIN_REASON_LENGTH = 15


def break_glass(
    user: User, patient_uuid: object, reason: str, evidence: IdentityEvidence | None = None
) -> BreakGlassAccess:
    """Open a record in an emergency, for a limited time, unless the patient opposed it.

    The patient is designated by public id, or found from the strict traits
    or the matricule typed from a document in hand.
    """
    reason = reason.strip()
    patient = load_patient(patient_uuid) if patient_uuid else find_by_evidence(evidence)
    if user.role not in BREAK_GLASS_ROLES:
        raise RecordRuleBroken(_("Your role may not open a record in an emergency."))
    if len(reason) < MIN_REASON_LENGTH:
        raise RecordRuleBroken(
            _("Describe the emergency in at least %(n)d characters.") % {"n": MIN_REASON_LENGTH}
        )
    if patient is None:
        record(
            user,
            Event(
                action=Action.BREAK_GLASS,
                outcome=Outcome.DENIED,
                reason=reason,
                detail={"unknown_id": str(patient_uuid or "")},
            ),
        )
        raise PatientNotFound
    refused = emergency_refusal(user, patient)
    if refused is not None:
        record(
            user,
            Event(
                action=Action.BREAK_GLASS,
                outcome=Outcome.DENIED,
                patient=patient,
                reason=reason,
                detail={"rule": refused},
            ),
        )
        raise RecordRuleBroken(
            _(
                "The patient has opposed emergency access to their record. Contact the "
                "médecin traitant or the regulation centre (15)."
            )
        )
    hours = settings.MAILLAGE_BREAK_GLASS_HOURS
    now = timezone.now()
    with transaction.atomic():
        access = BreakGlassAccess.objects.create(
            patient=patient,
            user=user,
            reason=reason,
            started_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
        record(
            user,
            Event(
                action=Action.BREAK_GLASS,
                patient=patient,
                basis=Relation.BREAK_GLASS,
                reason=reason,
                detail={"hours": hours, "access": str(access.uuid)},
            ),
        )
    transaction.on_commit(lambda: notifications.tell_patient_of_break_glass(access))
    return access


def review_break_glass(reviewer: User, access: BreakGlassAccess, outcome: str, note: str) -> None:
    from maillage.accounts.models import Role

    if reviewer.role != Role.ADMIN:
        raise RecordRuleBroken(_("Only an administrator reviews emergency accesses."))
    if outcome not in ReviewOutcome.values:
        raise RecordRuleBroken(_("Choose the outcome of the review."))
    updated = BreakGlassAccess.objects.filter(pk=access.pk, reviewed_at__isnull=True).update(
        reviewed_at=timezone.now(),
        reviewed_by=reviewer,
        review_outcome=outcome,
        review_note=note.strip(),
    )
    if updated != 1:
        raise RecordRuleBroken(_("This access has already been reviewed."))
    record(
        reviewer,
        Event(
            action=Action.BREAK_GLASS_REVIEW,
            patient=access.patient,
            basis="review",
            detail={"access": str(access.uuid), "outcome": outcome},
        ),
    )
