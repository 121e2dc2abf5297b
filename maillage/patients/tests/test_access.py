"""Every role against the patient gate, with the audit entry each attempt leaves."""

from __future__ import annotations

import pytest
from django.db.models import Q

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.patients.models import Patient
from maillage.policy.gate import (
    NotAllowed,
    PatientNotFound,
    access_patient,
    get_patient,
    search_patients,
    visible_patients_q,
)
from maillage.policy.relations import IdentityEvidence, Relation, relation_q, relations_to
from maillage.policy.table import allowed_relations

PERSONAS = [
    "patient_user",
    "treating_doctor",
    "cardiologist",
    "nurse",
    "coordinator",
    "stranger_coordinator",
    "regulator",
    "analyst",
    "social_worker",
    "admin",
]
S, T, C, V, P = (
    Relation.SELF,
    Relation.TREATING_DOCTOR,
    Relation.CARE_STRUCTURE,
    Relation.IDENTITY_VIGILANCE,
    Relation.INS_PROOF,
)
# persona -> expected basis (None: refused), per purpose.
EXPECTED = {
    Action.PATIENT_READ: dict(
        # The regulator reads only through an open regulation case (none here).
        zip(PERSONAS, [S, T, None, C, C, None, None, None, C, None], strict=True)
    ),
    Action.PATIENT_UPDATE: dict(
        zip(PERSONAS, [None, T, None, C, C, None, None, None, None, None], strict=True)
    ),
    Action.ACCESS_LOG_READ: dict(
        zip(PERSONAS, [S, None, None, None, None, None, None, None, None, None], strict=True)
    ),
    # Linking needs proof of the identity: without it, nobody may.
    Action.PATIENT_LINK: dict.fromkeys(PERSONAS),
}
WITH_EVIDENCE = {
    # Typing the strict traits is not enough to attach someone to one's structure.
    Action.PATIENT_LINK: dict.fromkeys(PERSONAS),
    Action.DUPLICATE_REVIEW: dict(
        zip(PERSONAS, [None, V, V, V, V, V, V, None, None, None], strict=True)
    ),
}


def _cases(table):
    return [(purpose, who, basis) for purpose, row in table.items() for who, basis in row.items()]


def _last_entry() -> AuditEntry:
    return AuditEntry.objects.latest("seq")


@pytest.mark.django_db
@pytest.mark.parametrize(("purpose", "who", "basis"), _cases(EXPECTED))
def test_it_decides_and_audits_every_role(personas, purpose, who, basis) -> None:
    user = personas.user(who)
    patient = personas.patient
    if basis is None:
        with pytest.raises(PatientNotFound):
            access_patient(user, patient, purpose)
    else:
        assert access_patient(user, patient, purpose).relation == basis
    entry = _last_entry()
    assert (entry.actor, entry.patient, entry.action) == (user, patient, purpose)
    assert entry.outcome == (Outcome.DENIED if basis is None else Outcome.GRANTED)
    assert entry.basis == (basis or "")


@pytest.mark.django_db
@pytest.mark.parametrize(("purpose", "who", "basis"), _cases(WITH_EVIDENCE))
def test_it_lets_identity_vigilance_through_only_with_proof(personas, purpose, who, basis) -> None:
    user = personas.user(who)
    patient = personas.patient
    proof = IdentityEvidence(patient.match_key)
    wrong = IdentityEvidence("GIRARD|MICHELINE|1948-03-15")
    with pytest.raises(PatientNotFound):
        access_patient(user, patient, purpose, evidence=wrong)
    if basis is None:
        with pytest.raises(PatientNotFound):
            access_patient(user, patient, purpose, evidence=proof)
    else:
        assert access_patient(user, patient, purpose, evidence=proof).relation == basis
    outcomes = list(
        AuditEntry.objects.filter(actor=user, patient=patient)
        .order_by("seq")
        .values_list("outcome", flat=True)
    )
    assert outcomes == [Outcome.DENIED, Outcome.GRANTED if basis else Outcome.DENIED]


@pytest.mark.django_db
def test_the_matricule_alone_is_proof_too(personas) -> None:
    patient = personas.patient
    proof = IdentityEvidence("SOMEONE|ELSE|2000-01-01", matricule=patient.ins_matricule)
    assert (
        access_patient(
            personas.coordinator, patient, Action.DUPLICATE_REVIEW, evidence=proof
        ).relation
        == Relation.IDENTITY_VIGILANCE
    )
    # The matricule with its key is the proof that lets a structure attach her.
    linked = access_patient(
        personas.stranger_coordinator, patient, Action.PATIENT_LINK, evidence=proof
    )
    assert linked.relation == P


@pytest.mark.django_db
@pytest.mark.parametrize(
    "purpose", [Action.PATIENT_READ, Action.PATIENT_UPDATE, Action.PATIENT_SEARCH]
)
@pytest.mark.parametrize("who", PERSONAS)
def test_the_list_filter_agrees_with_the_single_check(personas, purpose, who) -> None:
    """relations_to (one patient) and relation_q (lists) must never disagree."""
    from maillage.testing import factories as f

    user = personas.user(who)
    others = [
        f.patient("AUTRE", "Ana", followed_by=(personas.hospital,)),
        f.patient("VOISIN", "Léo", followed_by=(personas.mobile_unit,)),
        f.patient("SANSLIEN", "Eva"),
    ]
    everyone = [personas.patient, *others]
    wanted = allowed_relations(user, purpose)
    by_python = set(relations_to(user, everyone, wanted))
    by_query = set(
        Patient.objects.filter(relation_q(user, wanted))
        .filter(pk__in=[p.pk for p in everyone])
        .values_list("pk", flat=True)
    )
    assert by_python == by_query
    # With the consents applied (an opposition, an emergency opposition), the
    # list filter and the decision still agree.
    from maillage.policy.gate import allowed
    from maillage.records.models import Consent, ConsentKind

    Consent.objects.create(
        patient=others[0],
        kind=ConsentKind.OPPOSE_PROFESSIONAL,
        professional=personas.nurse,
        recorded_by=personas.patient_user,
    )
    Consent.objects.create(
        patient=personas.patient,
        kind=ConsentKind.OPPOSE_EMERGENCY,
        recorded_by=personas.patient_user,
    )
    decided = {p.pk for p in everyone if allowed(user, p, purpose)}
    listed = set(
        Patient.objects.filter(visible_patients_q(user, purpose))
        .filter(pk__in=[p.pk for p in everyone])
        .values_list("pk", flat=True)
    )
    assert decided == listed


@pytest.mark.django_db
def test_an_unknown_or_malformed_id_looks_the_same_and_is_audited(personas) -> None:
    for bad in ["0b6cbd5c-4a5c-4b8e-8a30-1c0d5b2f6a11", "not-a-uuid", "1 OR 1=1"]:
        with pytest.raises(PatientNotFound):
            get_patient(personas.treating_doctor.user, bad, Action.PATIENT_READ)
        entry = _last_entry()
        assert entry.outcome == Outcome.DENIED and entry.patient is None
        assert entry.detail == {"unknown_id": bad}


@pytest.mark.django_db
def test_an_inactive_account_is_refused(personas) -> None:
    gp = personas.treating_doctor.user
    gp.is_active = False
    gp.save(update_fields=["is_active"])
    with pytest.raises(PatientNotFound):
        access_patient(gp, personas.patient, Action.PATIENT_READ)


@pytest.mark.django_db
def test_search_lists_only_followed_patients_and_audits_each(
    personas, django_assert_max_num_queries
) -> None:
    from maillage.testing import factories as f

    msp_patients = [f.patient(f"SUIVI{i}", "Zoé", followed_by=(personas.msp,)) for i in range(12)]
    f.patient("AILLEURS", "Jade", followed_by=(personas.hospital,))
    with django_assert_max_num_queries(10):
        page = search_patients(personas.coordinator, Q(), limit=20)
    assert page.total == 13
    assert {p.pk for p in page.patients} == {personas.patient.pk, *(p.pk for p in msp_patients)}
    listed = AuditEntry.objects.filter(action=Action.PATIENT_SEARCH, actor=personas.coordinator)
    assert listed.count() == 13
    assert set(listed.values_list("basis", flat=True)) == {Relation.CARE_STRUCTURE}
    assert AuditEntry.objects.get(action=Action.SEARCH).detail["results"] == 13


@pytest.mark.django_db
def test_search_pages_without_skipping(personas) -> None:
    from maillage.testing import factories as f

    for i in range(25):
        f.patient(f"PAGE{i:02d}", "Max", followed_by=(personas.msp,))
    first = search_patients(personas.coordinator, Q(birth_name__startswith="PAGE"), limit=10)
    second = search_patients(
        personas.coordinator, Q(birth_name__startswith="PAGE"), offset=10, limit=10
    )
    third = search_patients(
        personas.coordinator, Q(birth_name__startswith="PAGE"), offset=20, limit=10
    )
    names = [p.birth_name for page in (first, second, third) for p in page.patients]
    assert names == [f"PAGE{i:02d}" for i in range(25)]
    assert first.has_next and second.has_next and not third.has_next


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["analyst", "admin", "patient_user"])
def test_roles_without_patients_cannot_search(personas, who) -> None:
    user = personas.user(who)
    with pytest.raises(NotAllowed):
        search_patients(user, Q())
    entry = _last_entry()
    assert (entry.action, entry.outcome, entry.actor) == (Action.SEARCH, Outcome.DENIED, user)


@pytest.mark.django_db
def test_a_stranger_sees_nobody(personas) -> None:
    page = search_patients(personas.stranger_coordinator, Q(), limit=20)
    assert page.total == 0 and page.patients == []
    assert not AuditEntry.objects.filter(action=Action.PATIENT_SEARCH).exists()
