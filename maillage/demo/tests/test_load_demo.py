from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from maillage.accounts.models import Role, User
from maillage.audit.models import Action
from maillage.demo import data
from maillage.demo.builder import load_demo
from maillage.directory.models import (
    EQUIPPED_KINDS,
    FinessType,
    Practice,
    Professional,
    Structure,
    StructureEquipment,
    StructureKind,
)
from maillage.directory.queries import DirectoryQuery, search_professionals
from maillage.directory.terminology import (
    GENERAL_PRACTICE,
    Profession,
    Specialty,
    specialty_family,
)
from maillage.lib.geo import haversine_km
from maillage.lib.ins import IdentityStatus, parse_matricule, trait_mismatches
from maillage.lib.names import identity_match_key
from maillage.patients.identity import IdentityInput, identity_problems
from maillage.patients.models import InsKind, Patient
from maillage.policy.gate import PatientNotFound, access_patient
from maillage.policy.relations import Relation
from maillage.territory.models import Commune
from maillage.testing.factories import ensure_communes, ensure_habilitations

# Every test here reads the demo loaded once (``demo``); see test_load_demo_commands.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo")]


def _counts() -> dict[str, int]:
    return {
        "structures": Structure.objects.count(),
        "equipment": StructureEquipment.objects.count(),
        "professionals": Professional.objects.count(),
        "practices": Practice.objects.count(),
        "patients": Patient.objects.count(),
        "followed_by": Patient.followed_by.through.objects.count(),
        "users": User.objects.count(),
        "staff": User.structures.through.objects.count(),
        "communes": Commune.objects.count(),
    }


def _load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """The demo loaded once for the module's readers, in a transaction undone at its end.

    Each test runs in a savepoint inside it (the ``db`` fixture), so what one
    test changes the next does not see; loading it for each test took most of
    this module's time. The tests that need an empty database are in
    ``test_load_demo_commands``.
    """
    outside = tmp_path_factory.mktemp("demo-audit")
    # What the suite's function fixtures set for each test (maillage/conftest.py),
    # set here for the load: a fast hasher, an audit key and checkpoints never in var/.
    with (
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            MAILLAGE_AUDIT_KEYS="",
            MAILLAGE_AUDIT_KEY_FILE=str(outside / "audit-keys.json"),
            MAILLAGE_AUDIT_CHECKPOINT_DIR=str(outside / "checkpoints"),
        ),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        ensure_communes()
        ensure_habilitations()
        load_demo()
        yield
        transaction.set_rollback(True)


def test_it_leaves_an_edited_demo_alone(demo: None) -> None:
    Structure.objects.filter(name="Pharmacie du Centre").update(name="Pharmacie Centrale")
    Professional.objects.filter(last_name="Dubreuil").update(last_name="Dubreuil-Morin")
    before = _counts()
    load_demo()
    assert _counts() == before
    assert not Structure.objects.filter(name="Pharmacie du Centre").exists()


def test_it_loads_counts_close_to_the_spec(demo: None) -> None:
    kinds = Counter(Structure.objects.values_list("kind", flat=True))
    assert set(kinds) == set(StructureKind.values)
    assert all(10 <= n <= 15 for n in kinds.values()), kinds
    assert 55 <= Professional.objects.count() <= 70
    professions = Counter(Professional.objects.values_list("profession", flat=True))
    assert professions[Profession.NURSE] >= 8
    assert professions[Profession.PHARMACIST] >= 5
    assert 2 <= professions[Profession.MIDWIFE] <= 4
    assert 2 <= professions[Profession.PHYSIOTHERAPIST] <= 4
    specialties = Counter(Professional.objects.values_list("specialty", flat=True))
    assert sum(specialties[s] for s in GENERAL_PRACTICE) >= 15
    assert sum(specialties[s] for s in specialty_family(Specialty.CARDIOLOGY)) >= 6
    for specialty in (
        Specialty.DERMATOLOGY,
        Specialty.GERIATRICS,
        Specialty.PNEUMOLOGY,
        Specialty.PSYCHIATRY,
        Specialty.NEPHROLOGY,
        Specialty.OPHTHALMOLOGY,
    ):
        assert specialties[specialty] >= 1, specialty
    assert sum(specialties[s] for s in specialty_family(Specialty.ENDOCRINOLOGY)) >= 1
    assert Professional.objects.filter(accepts_teleexpertise=True).count() >= 15
    assert not Professional.objects.filter(practices__isnull=True).exists()
    assert Patient.objects.count() == data.PATIENT_COUNT


def test_it_varies_identity_statuses(demo: None) -> None:
    statuses = Counter(p.identity_status for p in Patient.objects.all())
    assert statuses[IdentityStatus.QUALIFIED] > 0.6 * data.PATIENT_COUNT
    assert statuses[IdentityStatus.VALIDATED] >= 5
    assert statuses[IdentityStatus.RETRIEVED] >= 5
    assert statuses[IdentityStatus.PROVISIONAL] >= 5
    assert Patient.objects.filter(doubtful=True).count() == data.DOUBTFUL_COUNT
    assert Patient.objects.filter(ins_kind=InsKind.NIA).exists()


def test_it_passes_model_validation(demo: None) -> None:
    for structure in Structure.objects.select_related("commune"):
        structure.full_clean()
        if structure.finess:
            assert structure.finess_type == FinessType.GEOGRAPHIC
            assert structure.finess[:2] == structure.commune.departement
        if structure.kind in {StructureKind.TELECONSULTATION_POINT, StructureKind.CPTS}:
            assert structure.siret
        assert structure.postal_code[:2] == structure.commune.departement
    for professional in Professional.objects.all():
        professional.full_clean()
        assert professional.rpps.startswith("10")
        assert professional.secure_messaging_address.endswith(".invalid")
    for patient in Patient.objects.all():
        patient.full_clean()


def test_it_equips_points_mobile_units_and_some_pharmacies(demo: None) -> None:
    equipped = Counter(
        StructureEquipment.objects.values_list("structure__kind", flat=True).distinct()
    )
    assert set(equipped) == set(EQUIPPED_KINDS)
    for unit in Structure.objects.filter(kind=StructureKind.MOBILE_UNIT):
        assert {"camera", "stethoscope", "oximeter"} <= {e.kind for e in unit.equipment.all()}
    for point in Structure.objects.filter(kind=StructureKind.TELECONSULTATION_POINT):
        assert "camera" in {e.kind for e in point.equipment.all()}
    pharmacies = Structure.objects.filter(kind=StructureKind.PHARMACY)
    with_room = pharmacies.filter(equipment__kind="otoscope").distinct().count()
    assert 0 < with_room < pharmacies.count()


def test_it_gives_every_patient_a_coherent_matricule(demo: None) -> None:
    for patient in Patient.objects.all():
        assert patient.ins_matricule is not None
        matricule = parse_matricule(patient.ins_matricule)
        assert trait_mismatches(matricule, patient.sex, patient.birth_date) == []
        assert matricule.place == patient.birthplace_code
        nia = matricule.value[0] in "78"
        assert (patient.ins_kind == InsKind.NIA) == nia
        identity = IdentityInput(
            birth_name=patient.birth_name,
            first_birth_given_name=patient.first_birth_given_name,
            birth_given_names=patient.birth_given_names,
            birth_date=patient.birth_date,
            sex=patient.sex,
            birthplace_code=patient.birthplace_code,
            ins_matricule=patient.ins_matricule,
            retrieved_from_insi=patient.retrieved_from_insi,
        )
        assert identity_problems(identity) == []
        assert patient.match_key == identity_match_key(
            patient.birth_name, patient.first_birth_given_name, patient.birth_date
        )


def test_it_cares_for_every_patient_near_their_gp(demo: None) -> None:
    patients = Patient.objects.select_related("commune", "treating_doctor").prefetch_related(
        "followed_by__commune", "treating_doctor__structures"
    )
    for patient in patients:
        assert patient.commune is not None
        assert patient.commune.departement in {"18", "41"}
        doctor = patient.treating_doctor
        assert doctor is not None and doctor.specialty in GENERAL_PRACTICE
        followers = set(patient.followed_by.all())
        assert followers & set(doctor.structures.all())
        nearest = min(haversine_km(patient.commune.point, s.commune.point) for s in followers)
        assert nearest <= data.RESIDENCE_RADIUS_KM


def test_it_creates_every_demo_login_with_its_role(demo: None) -> None:
    expected = {
        "medecin.traitant": Role.DOCTOR,
        "cardiologue": Role.DOCTOR,
        "infirmier": Role.NURSE,
        "pharmacien": Role.PHARMACIST,
        "secretaire": Role.COORDINATOR,
        "regulateur": Role.REGULATOR,
        "telesurveillance": Role.TELEMONITORING,
        "patient": Role.PATIENT,
        "analyste": Role.ANALYST,
        "travailleur.social": Role.SOCIAL_WORKER,
        "admin": Role.ADMIN,
    }
    users = {u.username: u for u in User.objects.filter(username__in=expected)}
    assert {name: u.role for name, u in users.items()} == expected
    for user in users.values():
        assert user.is_demo
        assert user.first_name and user.last_name
        assert user.check_password(data.DEMO_PASSWORD)
    assert users["admin"].is_staff and users["admin"].is_superuser
    assert not any(u.is_superuser for name, u in users.items() if name != "admin")

    msp = Structure.objects.get(name="Maison de santé pluriprofessionnelle de Sancoins")
    gp = users["medecin.traitant"].professional
    assert gp.specialty in GENERAL_PRACTICE and msp in gp.structures.all()
    cardiologist = users["cardiologue"].professional
    assert cardiologist.specialty == Specialty.CARDIOLOGY
    assert [s.name for s in cardiologist.structures.all()] == ["Centre hospitalier de Bourges"]
    nurse = users["infirmier"].professional
    assert nurse.profession == Profession.NURSE
    kinds = {s.kind for s in nurse.structures.all()}
    assert kinds == {StructureKind.MSP, StructureKind.MOBILE_UNIT}
    assert msp in nurse.structures.all()
    pharmacy = users["pharmacien"].professional.structures.get()
    assert pharmacy.kind == StructureKind.PHARMACY and pharmacy.commune.insee_code == "18242"
    for name in ("secretaire", "travailleur.social"):
        assert list(users[name].structures.all()) == [msp]
    assert [s.name for s in users["telesurveillance"].structures.all()] == [
        "Centre hospitalier de Bourges"
    ]


def test_it_links_the_patient_login_to_her_record(demo: None) -> None:
    user = User.objects.get(username="patient")
    record = user.patient_record
    assert record.sex == "F"
    assert record.commune is not None and record.commune.insee_code == "18242"
    assert record.treating_doctor == User.objects.get(username="medecin.traitant").professional
    assert [s.name for s in record.followed_by.all()] == [
        "Maison de santé pluriprofessionnelle de Sancoins"
    ]
    assert record.identity_status is IdentityStatus.QUALIFIED


def test_it_keeps_the_cardiologist_away_from_the_patient(demo: None) -> None:
    record = Patient.objects.get(user__username="patient")
    cardiologist = User.objects.get(username="cardiologue")
    with pytest.raises(PatientNotFound):
        access_patient(cardiologist, record, Action.PATIENT_READ)
    gp = User.objects.get(username="medecin.traitant")
    assert access_patient(gp, record, Action.PATIENT_READ).relation == Relation.TREATING_DOCTOR
    secretary = User.objects.get(username="secretaire")
    assert (
        access_patient(secretary, record, Action.PATIENT_READ).relation == Relation.CARE_STRUCTURE
    )
    # The cardiologist does see the hospital's own telemonitored patients.
    watched = Patient.objects.filter(followed_by__name="Centre hospitalier de Bourges").first()
    assert watched is not None
    assert (
        access_patient(cardiologist, watched, Action.PATIENT_READ).relation
        == Relation.CARE_STRUCTURE
    )


def test_it_finds_cardiologists_near_sancoins_by_distance(demo: None, settings) -> None:
    sancoins = Commune.objects.get(insee_code="18242")
    bourges = Commune.objects.get(insee_code="18033")
    bourges_km = haversine_km(sancoins.point, bourges.point) * settings.MAILLAGE_ROAD_FACTOR
    assert bourges_km > 50  # about 62 km by the road estimate

    hits = search_professionals(
        DirectoryQuery(specialty=Specialty.CARDIOLOGY, origin=sancoins, radius_km=50)
    )

    assert len(hits) >= 2
    distances = [h.distance_km for h in hits]
    assert all(d is not None and d <= 50 for d in distances)
    assert distances == sorted(distances)  # type: ignore[type-var]
    assert len(set(distances)) == len(distances)
    in_bourges = set(
        Professional.objects.filter(
            structures__commune=bourges, specialty__in=specialty_family(Specialty.CARDIOLOGY)
        ).values_list("pk", flat=True)
    )
    assert len(in_bourges) >= 2
    assert not in_bourges & {h.professional.pk for h in hits}
    wider = search_professionals(
        DirectoryQuery(specialty=Specialty.CARDIOLOGY, origin=sancoins, radius_km=70)
    )
    assert in_bourges <= {h.professional.pk for h in wider}


def test_it_draws_the_same_territory_on_every_machine(demo: None) -> None:
    # Pinned: a change here means every existing demo differs from a new one.
    record = Patient.objects.get(user__username="patient")
    assert record.ins_matricule == "251051824297809"
    assert str(record.uuid) == "2f6c006b-33ed-554f-bc4c-2069e5f11d0d"
    assert User.objects.get(username="medecin.traitant").professional.rpps == "10715404975"
    assert Structure.objects.get(name="Centre hospitalier de Bourges").finess == "185771789"
