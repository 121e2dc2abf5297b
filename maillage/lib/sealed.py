"""Sealing files with AES-256-GCM under identified keys, without Django.

Layout of a sealed blob: ``MLG1`` | key-id length (1 byte) | key id (ASCII) |
nonce (12 bytes) | ciphertext with its 16-byte tag. The key id travels with
the blob so that a rotated-out key can still open old files; the record's own
identifier is bound as associated data, so a blob moved to another record
does not open.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"MLG1"
NONCE_BYTES = 12


class SealError(ValueError):
    """The blob is damaged, was tampered with, or its key is unknown."""


@dataclass(frozen=True)
class Keyring:
    keys: Mapping[str, bytes]
    current: str

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ValueError(f"current key {self.current!r} is not in the keyring")
        for key_id, key in self.keys.items():
            if len(key) != 32 or not key_id.isascii() or not 0 < len(key_id) < 64:
                raise ValueError(f"key {key_id!r} must be 32 bytes with a short ASCII id")

    @classmethod
    def parse(cls, spec: str, current: str) -> Keyring:
        """From "id1:base64,id2:base64" (the environment variable's form)."""
        keys = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            key_id, _, encoded = item.partition(":")
            keys[key_id] = base64.b64decode(encoded)
        return cls(keys, current)


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(plaintext: bytes, keyring: Keyring, associated: bytes) -> bytes:
    key_id = keyring.current.encode("ascii")
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(keyring.keys[keyring.current]).encrypt(nonce, plaintext, associated)
    return MAGIC + bytes([len(key_id)]) + key_id + nonce + ciphertext


def key_id_of(blob: bytes) -> str:
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 1:
        raise SealError("not a sealed blob")
    length = blob[len(MAGIC)]
    return blob[len(MAGIC) + 1 : len(MAGIC) + 1 + length].decode("ascii", "replace")


def unseal(blob: bytes, keyring: Keyring, associated: bytes) -> bytes:
    key_id = key_id_of(blob)
    key = keyring.keys.get(key_id)
    if key is None:
        raise SealError(f"unknown key {key_id!r}")
    start = len(MAGIC) + 1 + len(key_id)
    nonce, ciphertext = blob[start : start + NONCE_BYTES], blob[start + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, associated)
    except InvalidTag:
        raise SealError("authentication failed") from None
