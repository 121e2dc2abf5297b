from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maillage.lib.sealed import Keyring, SealError, key_id_of, new_key, seal, unseal

OLD, NEW = new_key(), new_key()


@given(st.binary(max_size=4096), st.binary(min_size=1, max_size=40))
@settings(max_examples=50)
def test_a_sealed_blob_opens_with_its_key_and_hides_its_content(
    plaintext: bytes, ad: bytes
) -> None:
    ring = Keyring({"k1": OLD}, "k1")
    blob = seal(plaintext, ring, ad)
    assert unseal(blob, ring, ad) == plaintext
    if len(plaintext) >= 16:
        assert plaintext not in blob


def test_old_blobs_open_after_rotation() -> None:
    before = Keyring({"2026-01": OLD}, "2026-01")
    blob = seal(b"compte rendu", before, b"doc-1")
    after = Keyring({"2026-01": OLD, "2026-11": NEW}, "2026-11")
    assert key_id_of(blob) == "2026-01"
    assert unseal(blob, after, b"doc-1") == b"compte rendu"
    assert key_id_of(seal(b"x", after, b"doc-2")) == "2026-11"


def test_it_refuses_a_flipped_bit_a_moved_blob_or_a_missing_key() -> None:
    ring = Keyring({"k": OLD}, "k")
    blob = bytearray(seal(b"ordonnance", ring, b"doc-1"))
    blob[-5] ^= 0x01
    with pytest.raises(SealError):
        unseal(bytes(blob), ring, b"doc-1")
    good = seal(b"ordonnance", ring, b"doc-1")
    with pytest.raises(SealError):
        unseal(good, ring, b"doc-2")
    with pytest.raises(SealError):
        unseal(good, Keyring({"other": NEW}, "other"), b"doc-1")
    with pytest.raises(SealError):
        unseal(b"plain text", ring, b"doc-1")


def test_the_keyring_reads_the_environment_form() -> None:
    spec = f"a:{base64.b64encode(OLD).decode()}, b:{base64.b64encode(NEW).decode()}"
    ring = Keyring.parse(spec, "b")
    assert ring.keys == {"a": OLD, "b": NEW}
    with pytest.raises(ValueError):
        Keyring.parse(spec, "c")
    with pytest.raises(ValueError):
        Keyring({"short": b"0" * 16}, "short")
