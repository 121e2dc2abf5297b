"""A keyed hash chain over audit records, and its checkpoints, without Django.

Each record's link is an HMAC-SHA256, under a key kept outside the database,
over its own canonical content, the previous link and the id of the key. So
changing, removing, inserting or reordering a record breaks a link, and
recomputing the links after a change needs the key: a plain hash could be
recomputed by anyone who can write to the table.

The head of the chain (last sequence number and link) is signed the same way,
and so are checkpoints: (seq, link, time, key id) lines written outside the
database, and the copies handed to an outside witness. A checkpoint pins what
the chain was at that moment, so a chain cut short, or rewritten by someone
who holds the key, no longer matches it.

Every MAC covers a "kind" field, so that an entry's MAC can never be passed
off as a head's or a checkpoint's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from maillage.lib.sealed import Keyring

GENESIS = "0" * 64


def canonical_bytes(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _mac(key: bytes, fields: Mapping[str, Any]) -> str:
    return hmac.new(key, canonical_bytes(fields), hashlib.sha256).hexdigest()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def link_mac(key: bytes, key_id: str, previous_hash: str, payload: Mapping[str, Any]) -> str:
    """The link of one record: it covers the record, the previous link and the key id."""
    return _mac(
        key, {"kind": "entry", "key_id": key_id, "previous": previous_hash, "payload": payload}
    )


class Link(NamedTuple):
    """One stored record as the verifier reads it."""

    seq: int
    previous_hash: str
    hash: str
    key_id: str
    payload: Mapping[str, Any]


def first_broken_link(links: Iterable[Link], keys: Mapping[str, bytes]) -> int | None:
    """The sequence number of the first record whose link does not hold.

    ``links`` come in sequence order, starting at 1. A gap in the numbering
    counts as a break at the first missing number; a record under a key id
    that ``keys`` does not hold cannot be checked, so it counts as broken.
    """
    expected_previous = GENESIS
    expected_seq = 1
    for link in links:
        if link.seq != expected_seq:
            return expected_seq
        key = keys.get(link.key_id)
        if (
            key is None
            or not _same(link.previous_hash, expected_previous)
            or not _same(link_mac(key, link.key_id, link.previous_hash, link.payload), link.hash)
        ):
            return link.seq
        expected_previous = link.hash
        expected_seq += 1
    return None


def head_mac(key: bytes, key_id: str, seq: int, hash: str) -> str:
    return _mac(key, {"kind": "head", "key_id": key_id, "seq": seq, "hash": hash})


def sign_head(keyring: Keyring, seq: int, hash: str) -> tuple[str, str]:
    """(key id, MAC) for a head at ``seq`` whose last link is ``hash``."""
    key_id = keyring.current
    return key_id, head_mac(keyring.keys[key_id], key_id, seq, hash)


def head_is_authentic(
    keys: Mapping[str, bytes], seq: int, hash: str, key_id: str, mac: str
) -> bool:
    # The empty chain's head is made by a migration, before any key exists.
    if seq == 0 and hash == GENESIS and not mac:
        return True
    key = keys.get(key_id)
    return key is not None and _same(head_mac(key, key_id, seq, hash), mac)


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at a moment, signed, kept outside the database."""

    seq: int
    hash: str
    at: str
    key_id: str
    mac: str

    def _fields(self) -> dict[str, Any]:
        return {
            "kind": "checkpoint",
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at,
            "key_id": self.key_id,
        }

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Checkpoint | None:
        """Parse one checkpoint; None for anything that is not one."""
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        seq, hash, at, key_id, mac = (data.get(k) for k in ("seq", "hash", "at", "key_id", "mac"))
        if type(seq) is not int or seq < 0:
            return None
        if not (isinstance(hash, str) and isinstance(at, str)):
            return None
        if not (isinstance(key_id, str) and isinstance(mac, str)):
            return None
        return cls(seq, hash, at, key_id, mac)

    def is_authentic(self, keys: Mapping[str, bytes]) -> bool:
        key = keys.get(self.key_id)
        return key is not None and _same(_mac(key, self._fields()), self.mac)


def sign_checkpoint(keyring: Keyring, seq: int, hash: str, at: str) -> Checkpoint:
    unsigned = Checkpoint(seq, hash, at, keyring.current, "")
    return Checkpoint(
        seq, hash, at, keyring.current, _mac(keyring.keys[keyring.current], unsigned._fields())
    )


def first_checkpoint_break(
    checkpoints: Iterable[Checkpoint], hash_at: Mapping[int, str], last_seq: int
) -> int | None:
    """The first record a checkpoint disagrees with.

    Every checkpointed seq must exist with the checkpointed link (``hash_at``
    holds the stored links at those seqs), and the stored chain must reach
    the last checkpoint: if it stops short, the first missing record is named.
    """
    for checkpoint in sorted(checkpoints, key=lambda c: c.seq):
        if checkpoint.seq == 0:
            continue
        if checkpoint.seq > last_seq:
            return last_seq + 1
        stored = hash_at.get(checkpoint.seq)
        if stored is None or not _same(stored, checkpoint.hash):
            return checkpoint.seq
    return None
