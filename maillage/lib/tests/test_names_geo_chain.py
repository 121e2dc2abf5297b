from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maillage.lib.geo import GeoPoint, bounding_box, haversine_km
from maillage.lib.hashchain import (
    GENESIS,
    Checkpoint,
    Link,
    first_broken_link,
    first_checkpoint_break,
    head_is_authentic,
    link_mac,
    sign_checkpoint,
    sign_head,
)
from maillage.lib.names import identity_match_key, normalise_name
from maillage.lib.sealed import Keyring


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


OLD = Keyring({"k1": b"1" * 32}, "k1")
RING = Keyring({"k1": b"1" * 32, "k2": b"2" * 32}, "k2")


def _chain(
    payloads: list[dict[str, object]], ring: Keyring = RING, start: int = 1, previous: str = GENESIS
) -> list[Link]:
    rows = []
    for seq, payload in enumerate(payloads, start=start):
        digest = link_mac(ring.keys[ring.current], ring.current, previous, payload)
        rows.append(Link(seq, previous, digest, ring.current, payload))
        previous = digest
    return rows


def test_an_untouched_chain_holds() -> None:
    assert first_broken_link(_chain([{"a": i} for i in range(5)]), RING.keys) is None


def test_it_finds_a_changed_a_removed_and_a_reordered_record() -> None:
    rows = _chain([{"a": i} for i in range(5)])
    changed = list(rows)
    changed[2] = rows[2]._replace(payload={"a": 99})
    assert first_broken_link(changed, RING.keys) == 3
    assert first_broken_link(rows[:2] + rows[3:], RING.keys) == 3
    assert first_broken_link([rows[1], rows[0], *rows[2:]], RING.keys) == 1


@given(st.integers(min_value=0, max_value=5), st.integers())
def test_any_change_rechained_without_the_key_breaks_at_the_change(at: int, value: int) -> None:
    """The attacker rewrites one record and recomputes every later link under a key he made."""
    rows = _chain([{"a": i} for i in range(6)])
    attacker = Keyring({"k2": b"x" * 32}, "k2")
    rewritten: list[dict[str, object]] = [{"a": value}]
    rewritten += [dict(r.payload) for r in rows[at + 1 :]]
    forged = rows[:at] + _chain(
        rewritten,
        attacker,
        start=at + 1,
        previous=rows[at].previous_hash,
    )
    assert first_broken_link(forged, RING.keys) == at + 1


def test_entries_under_a_rotated_out_key_still_verify_and_not_without_it() -> None:
    before = _chain([{"a": 1}, {"a": 2}], OLD)
    after = _chain([{"a": 3}], RING, start=3, previous=before[-1].hash)
    assert first_broken_link(before + after, RING.keys) is None
    assert first_broken_link(before + after, {"k2": RING.keys["k2"]}) == 1


def test_a_head_is_authentic_only_where_it_was_signed() -> None:
    key_id, mac = sign_head(RING, 7, "ab" * 32)
    assert head_is_authentic(RING.keys, 7, "ab" * 32, key_id, mac)
    assert not head_is_authentic(RING.keys, 6, "ab" * 32, key_id, mac)
    assert not head_is_authentic(RING.keys, 7, "cd" * 32, key_id, mac)
    assert not head_is_authentic({}, 7, "ab" * 32, key_id, mac)
    assert head_is_authentic({}, 0, GENESIS, "", "")  # the empty chain, before any key


def test_a_checkpoint_survives_its_line_and_nothing_else_does() -> None:
    checkpoint = sign_checkpoint(RING, 4, "ab" * 32, "2026-12-02T10:00:00+00:00")
    parsed = Checkpoint.from_json(checkpoint.to_json())
    assert parsed == checkpoint
    assert parsed is not None and parsed.is_authentic(RING.keys)
    moved = Checkpoint(5, checkpoint.hash, checkpoint.at, checkpoint.key_id, checkpoint.mac)
    assert not moved.is_authentic(RING.keys)
    # An entry's or a head's MAC is never a checkpoint's.
    head = Checkpoint(4, "ab" * 32, checkpoint.at, "k2", sign_head(RING, 4, "ab" * 32)[1])
    assert not head.is_authentic(RING.keys)
    for garbage in [
        "",
        "[]",
        '{"seq": "4"}',
        '{"seq": -1, "hash": "", "at": "", "key_id": "", "mac": ""}',
        '{"seq": true, "hash": "", "at": "", "key_id": "", "mac": ""}',
    ]:
        assert Checkpoint.from_json(garbage) is None


def test_checkpoints_name_the_first_record_they_disagree_with() -> None:
    rows = _chain([{"a": i} for i in range(5)])
    hash_at = {r.seq: r.hash for r in rows}
    pins = [sign_checkpoint(RING, r.seq, r.hash, "t") for r in rows]
    assert first_checkpoint_break(pins, hash_at, 5) is None
    assert first_checkpoint_break(pins, hash_at, 3) == 4  # cut from the end
    assert first_checkpoint_break(pins, {**hash_at, 2: "ff" * 32}, 5) == 2  # rewritten
    assert first_checkpoint_break(reversed(pins), {**hash_at, 4: "ff" * 32}, 5) == 4
