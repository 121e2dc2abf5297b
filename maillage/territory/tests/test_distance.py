from __future__ import annotations

import pytest

from maillage.lib.geo import GeoPoint
from maillage.territory.distance import HaversineProvider, get_distance_provider
from maillage.territory.loader import read_communes
from maillage.territory.models import Commune
from maillage.territory.queries import find_communes, suggest_communes

BOURGES = GeoPoint(47.07494, 2.40477)
SANCOINS = GeoPoint(46.82452, 2.91385)


class FixedProvider:
    """A stand-in routing engine, as an OSRM adapter would plug in."""

    def distance_km(self, origin: GeoPoint, destination: GeoPoint) -> float:
        return 100.0

    def matrix_km(self, origins, destinations):
        return [[100.0 for _ in destinations] for _ in origins]


def test_the_default_is_haversine_times_the_road_factor(settings) -> None:
    settings.MAILLAGE_ROAD_FACTOR = 1.3
    provider = get_distance_provider()
    assert isinstance(provider, HaversineProvider)
    assert provider.distance_km(BOURGES, SANCOINS) == pytest.approx(47.6 * 1.3, abs=0.2)
    settings.MAILLAGE_ROAD_FACTOR = 1.5
    assert get_distance_provider().distance_km(BOURGES, SANCOINS) == pytest.approx(
        47.6 * 1.5, abs=0.2
    )


def test_the_provider_is_chosen_by_configuration(settings) -> None:
    settings.MAILLAGE_DISTANCE_PROVIDER = f"{__name__}.FixedProvider"
    assert get_distance_provider().distance_km(BOURGES, SANCOINS) == 100.0


def test_a_road_factor_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        HaversineProvider(road_factor=0.9)


def test_the_matrix_matches_single_distances() -> None:
    provider = HaversineProvider(road_factor=1.3)
    matrix = provider.matrix_km([BOURGES, SANCOINS], [SANCOINS, BOURGES])
    assert matrix[0][0] == provider.distance_km(BOURGES, SANCOINS)
    assert matrix[1][1] == provider.distance_km(SANCOINS, BOURGES)
    assert matrix[0][1] == 0


def test_the_shipped_file_has_every_commune_of_the_region() -> None:
    rows = read_communes()
    assert len(rows) == 1754
    per_departement = {
        d: sum(r["departement"] == d for r in rows) for d in ["18", "28", "36", "37", "41", "45"]
    }
    assert per_departement == {"18": 286, "28": 363, "36": 241, "37": 272, "41": 267, "45": 325}


@pytest.mark.django_db
def test_the_migration_loaded_them() -> None:
    assert Commune.objects.count() == 1754
    sancoins = Commune.objects.get(insee_code="18242")
    assert (sancoins.name, sancoins.departement, sancoins.population) == ("Sancoins", "18", 2951)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "codes"),
    [
        ("Sancoins", ["18242"]),
        ("  sancoins ", ["18242"]),
        ("SAINT AMAND MONTROND", ["18197"]),
        ("18242", ["18242"]),
        ("Lignières (41)", ["41115"]),
        ("Nulle-Part", []),
    ],
)
def test_it_finds_communes_as_people_type_them(typed: str, codes: list[str]) -> None:
    assert sorted(find_communes(typed).values_list("insee_code", flat=True)) == codes


@pytest.mark.django_db
def test_an_ambiguous_name_gives_several_communes() -> None:
    assert sorted(find_communes("Lignières").values_list("departement", flat=True)) == ["18", "41"]


@pytest.mark.django_db
def test_suggestions_start_with_the_typed_letters_biggest_first() -> None:
    names = [c.name for c in suggest_communes("sain")]
    assert len(names) == 10 and all(n.upper().startswith("SAIN") for n in names)
    assert suggest_communes("s").count() == 0
