"""Every role against every document type and every relation, with the audit entry.

The expected answer is computed here from the rules as written in the issue
and STANDARDS.md (an independent oracle), not from the gate's own code.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from maillage.accounts.models import Role, User
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.directory.terminology import Profession, Specialty
from maillage.policy.gate import DocumentNotFound, get_document
from maillage.records.habilitations import DEFAULT_MATRIX
from maillage.records.models import (
    BreakGlassAccess,
    CareTeamMember,
    CareTeamReason,
    Consent,
    ConsentKind,
    DocumentType,
)
from maillage.testing import factories as f

ROLES = [
    "patient",
    "doctor",
    "nurse",
    "pharmacist",
    "coordinator",
    "regulator",
    "telemonitoring",
    "social_worker",
    "analyst",
    "admin",
]
SCENARIOS = [
    "none",
    "care_team",
    "opposed",
    "masked",
    "break_glass",
    "expired_break_glass",
    "regulation_case",
    "expired_regulation_case",
]
HAS_RPPS = {"doctor", "nurse", "pharmacist"}


def subject(personas, role: str) -> User:
    """A user of this role with no link to the patient to begin with."""
    if role == "patient":
        return personas.patient_user
    if role in HAS_RPPS:
        profession = {
            "doctor": Profession.DOCTOR,
            "nurse": Profession.NURSE,
            "pharmacist": Profession.PHARMACIST,
        }[role]
        specialty = Specialty.CARDIOLOGY if role == "doctor" else ""
        pro = f.professional(
            f"sujet.{role}",
            last_name="Sujet",
            profession=profession,
            specialty=specialty,
            structures=(personas.hospital,),
        )
        assert pro.user is not None
        return pro.user
    return f.user(f"sujet.{role}", role)


def arrange(personas, user, scenario: str, masked_document) -> None:
    patient = personas.patient
    professional = getattr(user, "professional", None)
    if scenario in {"care_team", "opposed", "masked"} and professional is not None:
        CareTeamMember.objects.create(
            patient=patient, professional=professional, reason=CareTeamReason.NAMED_BY_PATIENT
        )
    if scenario == "opposed":
        if professional is not None:
            Consent.objects.create(
                patient=patient,
                kind=ConsentKind.OPPOSE_PROFESSIONAL,
                professional=professional,
                recorded_by=personas.patient_user,
            )
        else:  # staff have no directory entry: the emergency opposition is theirs
            Consent.objects.create(
                patient=patient,
                kind=ConsentKind.OPPOSE_EMERGENCY,
                recorded_by=personas.patient_user,
            )
    if scenario == "masked":
        Consent.objects.create(
            patient=patient,
            kind=ConsentKind.MASK_DOCUMENT,
            document=masked_document,
            recorded_by=personas.patient_user,
        )
    if scenario in {"regulation_case", "expired_regulation_case"}:
        # Created directly, whatever the role: only the regulator's role holds
        # the relation in the policy table.
        from maillage.regulation.models import RegulationCase

        start = timezone.now() - dt.timedelta(hours=30 if scenario.startswith("expired") else 0)
        RegulationCase.objects.create(
            patient=patient,
            regulator=user,
            reason="Appel au 116 117 : fièvre, personne seule",
            opened_at=start,
            expires_at=start + dt.timedelta(hours=24),
        )
    if scenario in {"break_glass", "expired_break_glass"}:
        # Created directly, whatever the role: the gate must still refuse roles
        # that may not break the glass.
        start = timezone.now() - dt.timedelta(hours=5 if scenario.startswith("expired") else 0)
        BreakGlassAccess.objects.create(
            patient=patient,
            user=user,
            reason="Malaise, patient inconscient aux urgences",
            started_at=start,
            expires_at=start + dt.timedelta(hours=4),
        )


def expected_basis(role: str, scenario: str, doc_type: str, masked: bool) -> str | None:
    """The oracle: the basis of a granted read, or None for a refusal."""
    if role == "patient":
        return "self"
    read = DEFAULT_MATRIX.get(role, {}).get(doc_type, (False, False))[0]
    if role == "regulator":
        if scenario != "regulation_case" or not read:
            return None
        return "regulation_case"
    if role not in HAS_RPPS:
        return None
    basis = {"care_team": "care_team", "masked": "care_team", "break_glass": "break_glass"}.get(
        scenario
    )
    if basis is None or not read or masked:
        return None
    return basis


CASES = [(r, s) for r in ROLES for s in SCENARIOS if r != "patient" or s == "none"]


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "scenario"), CASES)
def test_every_role_every_type_every_relation(personas, documents, role, scenario) -> None:
    user = subject(personas, role)
    masked_document = documents[DocumentType.PRESCRIPTION]
    arrange(personas, user, scenario, masked_document)
    for doc_type, document in documents.items():
        masked = scenario == "masked" and document.pk == masked_document.pk
        basis = expected_basis(role, scenario, doc_type, masked)
        if basis is None:
            with pytest.raises(DocumentNotFound):
                get_document(user, document.uuid)
        else:
            shown, opened = get_document(user, document.uuid)
            assert shown == document and opened.relation == basis
        entry = AuditEntry.objects.filter(actor=user).latest("seq")
        assert entry.action == Action.DOCUMENT_READ
        assert entry.patient == personas.patient
        rule = entry.detail.pop("rule", None)
        assert entry.detail == {"document": str(document.uuid), "type": doc_type}
        # A refusal names the rule that refused; a grant names none.
        assert (rule is None) == (basis is not None)
        assert entry.outcome == (Outcome.DENIED if basis is None else Outcome.GRANTED), (
            role,
            scenario,
            doc_type,
        )
        assert entry.basis == (basis or "")
        if basis == "break_glass":
            assert entry.reason == "Malaise, patient inconscient aux urgences"


@pytest.mark.django_db
def test_the_treating_doctor_and_the_author_still_see_a_masked_document(
    personas, documents
) -> None:
    prescription = documents[DocumentType.PRESCRIPTION]
    Consent.objects.create(
        patient=personas.patient,
        kind=ConsentKind.MASK_DOCUMENT,
        document=prescription,
        recorded_by=personas.patient_user,
    )
    shown, opened = get_document(personas.treating_doctor.user, prescription.uuid)
    assert shown == prescription and opened.relation == "treating_doctor"
    # An author outside the care team's habilitation still reads what they wrote.
    nurse = personas.nurse
    CareTeamMember.objects.create(
        patient=personas.patient,
        professional=nurse,
        reason=CareTeamReason.ACT,
        valid_until=timezone.now() + dt.timedelta(days=3),
    )
    own = documents[DocumentType.TELEEXPERTISE_OPINION]
    own.author = nurse.user
    own.save(update_fields=["author"])
    assert get_document(nurse.user, own.uuid)[0] == own


@pytest.mark.django_db
def test_a_refused_sharing_leaves_each_professional_their_own_documents(
    personas, documents
) -> None:
    nurse = personas.nurse
    CareTeamMember.objects.create(
        patient=personas.patient, professional=nurse, reason=CareTeamReason.NAMED_BY_PATIENT
    )
    Consent.objects.create(
        patient=personas.patient,
        kind=ConsentKind.SHARING,
        granted=False,
        recorded_by=personas.patient_user,
    )
    with pytest.raises(DocumentNotFound):
        get_document(nurse.user, documents[DocumentType.LAB_RESULTS].uuid)
    # The médecin traitant wrote them all: they stay readable to their author.
    assert get_document(personas.treating_doctor.user, documents[DocumentType.LAB_RESULTS].uuid)
    # Consent given again: the nurse reads them.
    Consent.objects.create(
        patient=personas.patient,
        kind=ConsentKind.SHARING,
        granted=True,
        recorded_by=personas.patient_user,
    )
    assert get_document(nurse.user, documents[DocumentType.LAB_RESULTS].uuid)


@pytest.mark.django_db
def test_a_document_hidden_from_the_patient_is_not_shown_to_her(personas, documents) -> None:
    bad_news = documents[DocumentType.IMAGING_REPORT]
    bad_news.hidden_from_patient = True
    bad_news.save(update_fields=["hidden_from_patient"])
    with pytest.raises(DocumentNotFound):
        get_document(personas.patient_user, bad_news.uuid)
    assert get_document(personas.patient_user, documents[DocumentType.LAB_RESULTS].uuid)


@pytest.mark.django_db
def test_an_act_place_ends_by_itself(personas, documents) -> None:
    nurse = personas.nurse
    member = CareTeamMember.objects.create(
        patient=personas.patient,
        professional=nurse,
        reason=CareTeamReason.ACT,
        valid_until=timezone.now() + dt.timedelta(minutes=5),
    )
    lab = documents[DocumentType.LAB_RESULTS]
    assert get_document(nurse.user, lab.uuid)
    CareTeamMember.objects.filter(pk=member.pk).update(valid_until=timezone.now())
    with pytest.raises(DocumentNotFound):
        get_document(nurse.user, lab.uuid)


@pytest.mark.django_db
def test_an_edited_matrix_applies_at_once(personas, documents) -> None:
    from maillage.records.models import HabilitationRule

    pharmacist = f.professional("pharma", last_name="Vidal", profession=Profession.PHARMACIST)
    CareTeamMember.objects.create(
        patient=personas.patient, professional=pharmacist, reason=CareTeamReason.NAMED_BY_PATIENT
    )
    report = documents[DocumentType.TELECONSULTATION_REPORT]
    user = pharmacist.user
    assert user is not None
    with pytest.raises(DocumentNotFound):
        get_document(user, report.uuid)
    HabilitationRule.objects.update_or_create(
        role=Role.PHARMACIST,
        document_type=DocumentType.TELECONSULTATION_REPORT,
        defaults={"can_read": True},
    )
    assert get_document(user, report.uuid)
