"""A hash chain over audit records, without Django.

Each record's hash covers its own canonical content and the previous hash,
so changing, removing or reordering a record breaks every link after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

GENESIS = "0" * 64


def canonical_bytes(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link_hash(previous_hash: str, payload: Mapping[str, Any]) -> str:
    digest = hashlib.sha256()
    digest.update(previous_hash.encode())
    digest.update(canonical_bytes(payload))
    return digest.hexdigest()


def first_broken_link(
    records: Iterable[tuple[int, str, str, Mapping[str, Any]]],
) -> int | None:
    """The sequence number of the first record whose link does not hold.

    ``records`` yields (seq, previous_hash, hash, payload) in sequence order,
    starting at 1. A gap in the numbering counts as a break at the first
    missing number.
    """
    expected_previous = GENESIS
    expected_seq = 1
    for seq, previous_hash, record_hash, payload in records:
        if seq != expected_seq:
            return expected_seq
        if previous_hash != expected_previous or link_hash(previous_hash, payload) != record_hash:
            return seq
        expected_previous = record_hash
        expected_seq += 1
    return None
