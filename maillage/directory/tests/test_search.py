from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from maillage.directory.models import Professional, Structure, StructureKind
from maillage.directory.queries import (
    DirectoryQuery,
    StructureQuery,
    hydrate,
    match_professionals,
    search_professionals,
    search_structures,
    structures_of,
)
from maillage.directory.terminology import Profession, Specialty
from maillage.lib.identifiers import finess_check_digit, luhn_check_digit
from maillage.territory.models import Commune
from maillage.testing import factories as f
from maillage.testing.factories import page_text


@pytest.fixture
def sancoins(personas) -> Commune:
    return Commune.objects.get(insee_code="18242")


@pytest.mark.django_db
def test_it_sorts_by_distance_to_the_nearest_practice(personas, sancoins) -> None:
    far = f.structure("Centre hospitalier de Vierzon", StructureKind.HOSPITAL, "18279")
    near = f.structure("Cabinet de La Guerche", StructureKind.HEALTH_CENTRE, "18108")
    # Works both far and near: the nearest place counts, and it is listed first.
    both = f.professional(
        None, last_name="Bonnet", specialty=Specialty.CARDIOLOGY, structures=(far, near)
    )
    hits = search_professionals(DirectoryQuery(specialty=Specialty.CARDIOLOGY, origin=sancoins))
    assert [h.professional for h in hits] == [both, personas.cardiologist]
    assert hits[0].structures == (near, far)
    assert hits[0].distance_km == pytest.approx(18.7, abs=0.2)


@pytest.mark.django_db
def test_the_radius_excludes_the_far_ones(personas, sancoins) -> None:
    assert (
        search_professionals(
            DirectoryQuery(specialty=Specialty.CARDIOLOGY, origin=sancoins, radius_km=50)
        )
        == []
    )
    hits = search_professionals(
        DirectoryQuery(specialty=Specialty.CARDIOLOGY, origin=sancoins, radius_km=75)
    )
    assert [h.professional for h in hits] == [personas.cardiologist]


@pytest.mark.django_db
def test_it_filters_by_profession_name_and_teleexpertise(personas) -> None:
    nurses = search_professionals(DirectoryQuery(profession=Profession.NURSE))
    assert [h.professional for h in nurses] == [personas.nurse]
    assert [h.professional for h in search_professionals(DirectoryQuery(name="lefevre"))] == [
        personas.cardiologist
    ]
    assert search_professionals(DirectoryQuery(teleexpertise_only=True)) == []


@pytest.mark.django_db
def test_a_specialty_search_finds_its_renamed_variant(personas) -> None:
    newer = f.professional(
        None, last_name="Roy", specialty=Specialty.CARDIOVASCULAR, structures=(personas.hospital,)
    )
    found = {
        h.professional for h in search_professionals(DirectoryQuery(specialty=Specialty.CARDIOLOGY))
    }
    assert found == {personas.cardiologist, newer}


@pytest.mark.django_db
def test_inactive_professionals_and_structures_are_not_listed(personas) -> None:
    Professional.objects.filter(pk=personas.cardiologist.pk).update(active=False)
    assert search_professionals(DirectoryQuery(specialty=Specialty.CARDIOLOGY)) == []
    Structure.objects.filter(pk=personas.msp.pk).update(active=False)
    assert personas.treating_doctor not in {
        h.professional for h in search_professionals(DirectoryQuery())
    }


@pytest.mark.django_db
def test_the_search_costs_a_fixed_number_of_queries(
    personas, sancoins, django_assert_num_queries
) -> None:
    for i in range(30):
        f.professional(
            None,
            last_name=f"Medecin{i}",
            specialty=Specialty.GENERAL_PRACTICE,
            structures=(personas.msp,),
        )
    with django_assert_num_queries(1):
        matches = match_professionals(DirectoryQuery(origin=sancoins, radius_km=100))
    assert len(matches) >= 30
    with django_assert_num_queries(2):
        hits = hydrate(matches[:20])
    assert [h.professional.pk for h in hits] == [m.professional_id for m in matches[:20]]


@pytest.mark.django_db
def test_structures_by_kind_equipment_and_distance(personas, sancoins) -> None:
    point = f.structure("Mairie de Nérondes", StructureKind.TELECONSULTATION_POINT, "18160")
    point.equipment.create(kind="otoscope")
    point.equipment.create(kind="oximeter")
    other = f.structure("Mairie de Vierzon", StructureKind.TELECONSULTATION_POINT, "18279")
    other.equipment.create(kind="otoscope")
    hits = search_structures(
        StructureQuery(
            kind=StructureKind.TELECONSULTATION_POINT, equipment=("otoscope",), origin=sancoins
        )
    )
    assert [h.structure for h in hits] == [point, other]
    hits = search_structures(
        StructureQuery(equipment=("otoscope", "oximeter"), origin=sancoins, radius_km=50)
    )
    assert [h.structure for h in hits] == [point]


@pytest.mark.django_db
def test_a_users_structures_come_from_practice_or_staff_post(personas) -> None:
    assert set(structures_of(personas.nurse.user)) == {personas.msp, personas.mobile_unit}
    assert set(structures_of(personas.coordinator)) == {personas.msp}
    assert set(structures_of(personas.analyst)) == set()


@pytest.mark.django_db
def test_identifiers_are_checked_on_the_models(personas) -> None:
    structure = Structure(
        name="EHPAD Les Tilleuls",
        kind=StructureKind.EHPAD,
        commune=personas.msp.commune,
        finess="180000001",
        finess_type="FINEG",
    )
    with pytest.raises(ValidationError) as caught:
        structure.full_clean()
    assert "La clé de ce numéro FINESS est fausse" in str(caught.value)
    structure.finess = "1800000" + "0" + finess_check_digit("18000000")
    structure.siret = "1234567890123" + luhn_check_digit("1234567890123")
    structure.full_clean()
    pro = Professional(
        rpps="10000000000",
        last_name="X",
        first_name="Y",
        profession=Profession.NURSE,
        accepts_teleexpertise=True,
        teleexpertise_response_hours=24,
    )
    with pytest.raises(ValidationError) as caught:
        pro.full_clean()
    errors = caught.value.message_dict
    assert "Le chiffre de contrôle de ce numéro RPPS est faux : vérifiez-le." in errors["rpps"]
    assert (
        "Seuls les médecins et les sages-femmes répondent en télé-expertise."
        in errors["accepts_teleexpertise"]
    )


@pytest.mark.django_db
def test_the_page_explains_a_radius_without_a_commune(personas) -> None:
    client = Client()
    client.force_login(personas.patient_user)
    response = client.get("/annuaire/", {"radius": "50"})
    assert response.status_code == 200
    assert "Indiquez une commune pour chercher autour d'elle." in page_text(response)
    bad = client.get("/annuaire/", {"radius": "7", "specialty": "SM99", "page": "x"})
    assert bad.status_code == 200
    assert "Sélectionnez un choix valide" in page_text(bad)


@pytest.mark.django_db
def test_detail_pages_use_public_ids(personas) -> None:
    client = Client()
    client.force_login(personas.patient_user)
    assert client.get(f"/annuaire/professionnels/{personas.cardiologist.uuid}/").status_code == 200
    assert client.get(f"/annuaire/structures/{personas.hospital.uuid}/").status_code == 200
    assert (
        client.get("/annuaire/structures/8d0b3bd4-54f0-4df3-bd5c-3b6a5d3e2a10/").status_code == 404
    )
