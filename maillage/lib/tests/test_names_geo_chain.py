from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maillage.lib.geo import GeoPoint, bounding_box, haversine_km
from maillage.lib.hashchain import GENESIS, first_broken_link, link_hash
from maillage.lib.names import identity_match_key, normalise_name


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Dupont-Lefèvre", "DUPONT LEFEVRE"),
        ("  d'ARC   ", "D ARC"),
        ("D’Arc", "D ARC"),
        ("Œuvrard", "OEUVRARD"),
        ("Hélène  Marie-Thérèse", "HELENE MARIE THERESE"),
        ("ÇA", "CA"),
    ],
)
def test_it_normalises_what_typing_varies_on(typed: str, expected: str) -> None:
    assert normalise_name(typed) == expected


@given(st.text(alphabet="abcdefghéèêàçïôüœ -'", min_size=1, max_size=30))
def test_normalising_is_idempotent_and_case_blind(name: str) -> None:
    once = normalise_name(name)
    assert normalise_name(once) == once
    assert normalise_name(name.upper()) == normalise_name(name.lower())


def test_the_match_key_ignores_typing_differences() -> None:
    born = dt.date(1950, 5, 12)
    assert identity_match_key("Dupont-Lefèvre", "Jeanne", born) == identity_match_key(
        "DUPONT LEFEVRE", "jeanne", born
    )
    assert identity_match_key("Dupont", "Jeanne", born) != identity_match_key(
        "Dupont", "Jeanne", dt.date(1950, 5, 13)
    )


def test_haversine_matches_a_known_distance() -> None:
    # Bourges to Sancoins centroids: about 47.6 km as the crow flies.
    bourges = GeoPoint(47.07494, 2.40477)
    sancoins = GeoPoint(46.82452, 2.91385)
    assert haversine_km(bourges, sancoins) == pytest.approx(47.6, abs=0.1)
    assert haversine_km(bourges, bourges) == 0


points = st.builds(GeoPoint, st.floats(42, 51), st.floats(-5, 8))


@given(points, points, st.floats(0.5, 300))
def test_the_bounding_box_never_misses_a_point_in_the_radius(
    center: GeoPoint, other: GeoPoint, radius: float
) -> None:
    box = bounding_box(center, radius)
    if haversine_km(center, other) <= radius:
        assert box.min_latitude <= other.latitude <= box.max_latitude
        assert box.min_longitude <= other.longitude <= box.max_longitude


def _chain(payloads: list[dict[str, object]]) -> list[tuple[int, str, str, dict[str, object]]]:
    rows, previous = [], GENESIS
    for seq, payload in enumerate(payloads, start=1):
        digest = link_hash(previous, payload)
        rows.append((seq, previous, digest, payload))
        previous = digest
    return rows


def test_an_untouched_chain_holds() -> None:
    assert first_broken_link(_chain([{"a": i} for i in range(5)])) is None


def test_it_finds_a_changed_a_removed_and_a_reordered_record() -> None:
    rows = _chain([{"a": i} for i in range(5)])
    changed = list(rows)
    changed[2] = (3, rows[2][1], rows[2][2], {"a": 99})
    assert first_broken_link(changed) == 3
    assert first_broken_link(rows[:2] + rows[3:]) == 3
    assert first_broken_link([rows[1], rows[0], *rows[2:]]) == 1
