"""Where the file keys come from: never the database.

Production passes them in the environment (``MAILLAGE_FILE_KEYS`` =
"id:base64,id:base64" and ``MAILLAGE_FILE_KEY_ID`` naming the current one),
from a secret store. Without them (demo, development), a key file in
MAILLAGE_VAR_DIR is made on first use, readable by its owner only; back it
up apart from the database.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings

from maillage.lib.sealed import Keyring, new_key


class KeysFromEnvironment(Exception):
    """The keyring is managed outside (environment); it cannot be rotated from here."""


def _key_file() -> Path:
    return Path(settings.MAILLAGE_FILE_KEY_FILE)


def keyring() -> Keyring:
    spec = settings.MAILLAGE_FILE_KEYS
    if spec:
        return Keyring.parse(spec, settings.MAILLAGE_FILE_KEY_ID)
    path = _key_file()
    if not path.exists():
        _write_key_file(path, {"current": "", "keys": {}})
        return add_key_to_file()
    stored = json.loads(path.read_text())
    keys = {key_id: base64.b64decode(value) for key_id, value in stored["keys"].items()}
    return Keyring(keys, stored["current"])


def add_key_to_file() -> Keyring:
    """Make a new key current in the key file; older keys stay to open old files."""
    if settings.MAILLAGE_FILE_KEYS:
        raise KeysFromEnvironment
    path = _key_file()
    stored: dict[str, Any] = (
        json.loads(path.read_text()) if path.exists() else {"current": "", "keys": {}}
    )
    base_id = date.today().isoformat()
    key_id, n = base_id, 1
    while key_id in stored["keys"]:
        n += 1
        key_id = f"{base_id}.{n}"
    stored["keys"][key_id] = base64.b64encode(new_key()).decode()
    stored["current"] = key_id
    _write_key_file(path, stored)
    keys = {k: base64.b64decode(v) for k, v in stored["keys"].items()}
    return Keyring(keys, key_id)


def _write_key_file(path: Path, content: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle)
    temporary.replace(path)
