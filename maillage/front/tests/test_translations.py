"""Every string on screen has its French translation in the catalogue."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

PACKAGE = Path(__file__).resolve().parents[2]
CATALOGUE = PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def _untranslated(po_path: Path) -> list[str]:
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(str(message.id))
    return missing


def test_the_committed_catalogue_is_complete() -> None:
    assert _untranslated(CATALOGUE) == []


def test_no_string_in_the_code_is_missing_from_the_catalogue(tmp_path: Path) -> None:
    """Extract the strings again (as `make makemessages` does) into a copy and compare."""
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext is missing: `make test` installs Debian's gettext package.")
    copy = tmp_path / "maillage"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "static"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "maillage.settings"}
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "--locale", "fr", "--no-obsolete"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    assert _untranslated(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po") == []
