"""Files at rest: unreadable without the key, checked on every read, rotatable."""

from __future__ import annotations

import base64
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from maillage.audit.models import Action, AuditEntry
from maillage.files import storage
from maillage.files.keys import keyring
from maillage.files.models import StoredFile
from maillage.lib.sealed import new_key

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nCompte rendu de teleconsultation\n%%EOF"


@pytest.fixture(autouse=True)
def private_store(settings, tmp_path: Path) -> Path:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "keys" / "file-keys.json")
    settings.MAILLAGE_FILE_KEYS = ""
    return tmp_path


def _blob_path(stored: StoredFile, root: Path) -> Path:
    return root / "files" / str(stored.uuid)[:2] / f"{stored.uuid}.sealed"


@pytest.mark.django_db
def test_a_stored_file_reads_back_and_is_unreadable_on_disk(private_store: Path) -> None:
    stored = storage.store(PDF, "../../etc/CR téléconsultation.pdf", by=None)
    assert (stored.mime, stored.size, stored.original_name) == (
        "application/pdf",
        len(PDF),
        "CR téléconsultation.pdf",
    )
    on_disk = _blob_path(stored, private_store).read_bytes()
    assert b"Compte rendu" not in on_disk and b"%PDF" not in on_disk
    assert storage.read(stored) == PDF


@pytest.mark.django_db
def test_the_key_is_not_in_the_database(private_store: Path) -> None:
    from django.db import connection

    stored = storage.store(PDF, "cr.pdf", by=None)
    key = keyring().keys[stored.key_id]
    encoded = base64.b64encode(key).decode()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (table names from the schema)
            dump = repr(cursor.fetchall())
            assert encoded not in dump and key.hex() not in dump, table
    key_file = private_store / "keys" / "file-keys.json"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


@pytest.mark.django_db
def test_a_corrupted_file_is_refused_with_an_audit_entry(private_store: Path) -> None:
    stored = storage.store(PDF, "cr.pdf", by=None)
    path = _blob_path(stored, private_store)
    damaged = bytearray(path.read_bytes())
    damaged[40] ^= 0xFF
    path.write_bytes(bytes(damaged))
    with pytest.raises(storage.CorruptedFile):
        storage.read(stored)
    entry = AuditEntry.objects.get(action=Action.FILE_INTEGRITY_FAILED)
    assert entry.detail == {"file": str(stored.uuid), "check": "seal"}


@pytest.mark.django_db
def test_a_changed_checksum_or_a_missing_blob_is_refused(private_store: Path) -> None:
    stored = storage.store(PDF, "cr.pdf", by=None)
    StoredFile.objects.filter(pk=stored.pk).update(sha256="0" * 64)
    stored.refresh_from_db()
    with pytest.raises(storage.CorruptedFile):
        storage.read(stored)
    _blob_path(stored, private_store).unlink()
    with pytest.raises(storage.CorruptedFile):
        storage.read(stored)


@pytest.mark.django_db
def test_a_blob_swapped_between_records_does_not_open(private_store: Path) -> None:
    first = storage.store(PDF, "a.pdf", by=None)
    second = storage.store(PDF.replace(b"teleconsultation", b"autre patient!!!"), "b.pdf", by=None)
    _blob_path(first, private_store).write_bytes(_blob_path(second, private_store).read_bytes())
    with pytest.raises(storage.CorruptedFile):
        storage.read(first)


@pytest.mark.django_db
def test_rotating_the_key_keeps_old_files_readable_then_reseals_them(private_store: Path) -> None:
    old = storage.store(PDF, "old.pdf", by=None)
    old_key = old.key_id
    out = StringIO()
    call_command("rotate_file_key", stdout=out)
    assert "Nouvelle clé courante" in out.getvalue()
    current = keyring().current
    assert current != old_key
    assert storage.read(old) == PDF
    new = storage.store(PDF, "new.pdf", by=None)
    assert new.key_id == current
    call_command("reseal_files", stdout=StringIO())
    old.refresh_from_db()
    assert old.key_id == current and storage.read(old) == PDF
    # The old key can go now: everything opens without it.
    path = private_store / "keys" / "file-keys.json"
    content = json.loads(path.read_text())
    del content["keys"][old_key]
    path.write_text(json.dumps(content))
    assert storage.read(old) == PDF


@pytest.mark.django_db
def test_keys_from_the_environment_are_rotated_outside(settings) -> None:
    one, two = new_key(), new_key()
    settings.MAILLAGE_FILE_KEYS = f"k1:{base64.b64encode(one).decode()}"
    settings.MAILLAGE_FILE_KEY_ID = "k1"
    stored = storage.store(PDF, "cr.pdf", by=None)
    with pytest.raises(CommandError, match="MAILLAGE_FILE_KEYS"):
        call_command("rotate_file_key")
    settings.MAILLAGE_FILE_KEYS += f",k2:{base64.b64encode(two).decode()}"
    settings.MAILLAGE_FILE_KEY_ID = "k2"
    assert storage.read(stored) == PDF
    assert storage.reseal(stored) and stored.key_id == "k2"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Le fichier est vide."),
        (b"MZ\x90\x00" + b"\x00" * 60, "Ce fichier est un programme ou une archive"),
        (b"<html><script>x</script>", "Ce fichier contient une page web, un script"),
        (b"\x00\x01binary", "Ce type de fichier n'est pas accepté."),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "Le nom du fichier ne correspond pas à son contenu"),
    ],
)
def test_refused_uploads_say_why_in_french(data: bytes, message: str) -> None:
    with pytest.raises(storage.RejectedUpload) as caught:
        storage.store(data, "x.pdf", by=None)
    assert message in caught.value.message
    assert not StoredFile.objects.exists()


@pytest.mark.django_db
def test_too_large_uploads_are_refused(settings) -> None:
    settings.MAILLAGE_MAX_UPLOAD_BYTES = 1024 * 1024
    with pytest.raises(storage.RejectedUpload) as caught:
        storage.store(b"%PDF-" + b"0" * (1024 * 1024), "big.pdf", by=None)
    assert "plus de 1 Mo" in caught.value.message


@pytest.mark.django_db
def test_the_stored_name_ends_with_the_sniffed_type() -> None:
    stored = storage.store(b"\xff\xd8\xff\xe0\x00\x10JFIF", "../photo du talon.JPEG", by=None)
    assert stored.original_name == "photo du talon.jpg"
    no_extension = storage.store(PDF, "compte rendu", by=None)
    assert no_extension.original_name == "compte rendu.pdf"


@pytest.mark.django_db
def test_a_file_is_served_as_a_download_under_a_safe_name_with_its_type() -> None:
    from maillage.files.responses import stored_file_response

    stored = storage.store(PDF, "CR télé.pdf", by=None)
    # An older row kept the sender's name: the served one follows the content.
    StoredFile.objects.filter(pk=stored.pk).update(original_name='x".html')
    stored.refresh_from_db()
    response = stored_file_response(stored, PDF)
    assert response["Content-Disposition"] == (
        "attachment; filename=\"x.pdf\"; filename*=UTF-8''x.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
