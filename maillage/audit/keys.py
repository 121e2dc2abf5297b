"""Where the audit keys come from: never the database.

The chain's links, its head and its checkpoints are HMACs under these keys,
so whoever can write to the database but does not hold a key cannot recompute
them. As for the file keys (``maillage.files.keys``), production passes them
in the environment (``MAILLAGE_AUDIT_KEYS`` = "id:base64,id:base64" and
``MAILLAGE_AUDIT_KEY_ID`` naming the current one), from a secret store.
Without them (demo, development), a key file in MAILLAGE_VAR_DIR is made on
first use, readable by its owner only; back it up apart from the database.

Rotating adds a key and makes it current; older keys stay so that older
entries still verify. A key removed from the ring makes its entries
unverifiable, and ``verify_audit`` says so.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

from maillage.lib.sealed import Keyring


class KeysFromEnvironment(Exception):
    """The keyring is managed outside (environment); it cannot be rotated from here."""


def _key_file() -> Path:
    return Path(settings.MAILLAGE_AUDIT_KEY_FILE)


# The key file is looked at again at most this often (seconds). A key made
# current by another process (rotate_audit_key) is used here within that
# time; until then this process signs with the one before, which stays in
# the ring, so its entries verify all the same. Looking on every call (a
# stat and a path built two or three times a read) was 4 % of a FHIR read.
_LOOK_AGAIN_SECONDS = 1.0
# (the key file's setting, when it was looked at, the ring it held)
_looked: tuple[object, float, Keyring] | None = None


def keyring() -> Keyring:
    """The current audit keyring. Called on every append, so parsed once per change."""
    global _looked
    spec = settings.MAILLAGE_AUDIT_KEYS
    if spec:
        return _from_environment(spec, settings.MAILLAGE_AUDIT_KEY_ID)
    setting = settings.MAILLAGE_AUDIT_KEY_FILE
    now = time.monotonic()
    looked = _looked
    if looked is not None and looked[0] == setting and now - looked[1] < _LOOK_AGAIN_SECONDS:
        return looked[2]
    path = _key_file()
    try:
        changed = path.stat().st_mtime_ns
    except FileNotFoundError:
        _create_key_file(path)
        changed = path.stat().st_mtime_ns
    ring = _from_file(str(path), changed)
    _looked = (setting, now, ring)
    return ring


@lru_cache(maxsize=4)
def _from_environment(spec: str, current: str) -> Keyring:
    return Keyring.parse(spec, current)


@lru_cache(maxsize=4)
def _from_file(path: str, changed: int) -> Keyring:
    """``changed`` (the file's mtime) is only there to key the cache."""
    stored = json.loads(Path(path).read_text())
    keys = {key_id: base64.b64decode(value) for key_id, value in stored["keys"].items()}
    return Keyring(keys, stored["current"])


def _new_key_id(existing: dict[str, str]) -> str:
    base_id = f"audit-{date.today().isoformat()}"
    key_id, n = base_id, 1
    while key_id in existing:
        n += 1
        key_id = f"{base_id}.{n}"
    return key_id


def _create_key_file(path: Path) -> None:
    """The first key, made once even if several workers start together.

    Entries signed with a key that lost a race would never verify, so the file
    is linked into place only if it does not exist yet (``os.link`` fails
    otherwise) and the losers read the winner's key.
    """
    key_id = _new_key_id({})
    content = {
        "current": key_id,
        "keys": {key_id: base64.b64encode(secrets.token_bytes(32)).decode()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def add_key_to_file() -> Keyring:
    """Make a new key current in the key file; older keys stay to verify old entries."""
    if settings.MAILLAGE_AUDIT_KEYS:
        raise KeysFromEnvironment
    path = _key_file()
    stored: dict[str, Any] = (
        json.loads(path.read_text()) if path.exists() else {"current": "", "keys": {}}
    )
    key_id = _new_key_id(stored["keys"])
    stored["keys"][key_id] = base64.b64encode(secrets.token_bytes(32)).decode()
    stored["current"] = key_id
    _write_key_file(path, stored)
    global _looked
    _looked = None  # this process uses the new key at once
    keys = {k: base64.b64decode(v) for k, v in stored["keys"].items()}
    return Keyring(keys, key_id)


def _write_key_file(path: Path, content: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle)
    temporary.replace(path)
