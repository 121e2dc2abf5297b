"""A record with one document of each type, written by the médecin traitant."""

from __future__ import annotations

import datetime as dt

import pytest

from maillage.files import storage
from maillage.records.models import Document, DocumentFile, DocumentType

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nCompte rendu\n%%EOF"


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "file-keys.json")
    settings.MAILLAGE_FILE_KEYS = ""


@pytest.fixture
def documents(personas) -> dict[str, Document]:
    """One current document per type in the persona patient's record."""
    author = personas.treating_doctor.user
    stored = storage.store(PDF, "document.pdf", by=author)
    made = {}
    for doc_type in DocumentType:
        document = Document.objects.create(
            patient=personas.patient,
            type=doc_type,
            title=f"Document {doc_type.value}",
            date=dt.date(2026, 11, 2),
            author=author,
            author_label=author.display_name,
        )
        DocumentFile.objects.create(document=document, file=stored)
        made[doc_type.value] = document
    return made
