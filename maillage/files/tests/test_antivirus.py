"""The clamd hook: a file is scanned before it is sealed; found or unreachable, it is refused."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from maillage.files import storage
from maillage.files.models import StoredFile
from maillage.files.tests.clamd_double import EICAR, clamd_double

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nCompte rendu\n%%EOF"


@pytest.fixture(autouse=True)
def private_store(settings, tmp_path: Path) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "keys" / "file-keys.json")
    settings.MAILLAGE_FILE_KEYS = ""


@pytest.mark.django_db
def test_a_clean_file_is_scanned_whole_then_stored(settings) -> None:
    big = PDF + b"0" * (300 * 1024)  # several INSTREAM chunks
    with clamd_double() as clamd:
        settings.MAILLAGE_CLAMD = clamd.address
        stored = storage.store(big, "cr.pdf", by=None)
    assert clamd.scanned == [big]
    assert storage.read(stored) == big


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["eicar.txt", "eicar.com", "compte-rendu"])
def test_the_eicar_file_is_refused_in_french(settings, name: str) -> None:
    with clamd_double() as clamd:
        settings.MAILLAGE_CLAMD = clamd.address
        with pytest.raises(storage.RejectedUpload) as caught:
            storage.store(EICAR, name, by=None)
    if name.endswith(".com"):
        # Refused before the scan: the name says a program.
        assert "ne correspond pas" in caught.value.message
    else:
        assert "L'antivirus a trouvé une menace" in caught.value.message
        assert "Eicar-Test-Signature" in caught.value.message
    assert not StoredFile.objects.exists()


@pytest.mark.django_db
def test_an_unreachable_antivirus_refuses_the_file_and_says_so_in_the_log(settings, caplog) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.MAILLAGE_CLAMD = f"127.0.0.1:{port}"
    with (
        caplog.at_level(logging.ERROR, logger="maillage.files.storage"),
        pytest.raises(storage.RejectedUpload) as caught,
    ):
        storage.store(PDF, "cr.pdf", by=None)
    assert "L'antivirus n'a pas pu vérifier ce fichier" in caught.value.message
    assert "antivirus unavailable" in caplog.text
    assert not StoredFile.objects.exists()


@pytest.mark.django_db
def test_a_missing_unix_socket_fails_closed(settings, tmp_path: Path) -> None:
    settings.MAILLAGE_CLAMD = str(tmp_path / "clamd.ctl")
    with pytest.raises(storage.RejectedUpload):
        storage.check(PDF, "cr.pdf")


def test_without_clamd_configured_nothing_is_scanned(settings) -> None:
    settings.MAILLAGE_CLAMD = ""
    assert storage.check(PDF, "cr.pdf").mime == "application/pdf"
