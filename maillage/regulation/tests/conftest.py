"""A regulator's case about the persona patient, and a document to read through it."""

from __future__ import annotations

import datetime as dt

import pytest

from maillage.policy.relations import IdentityEvidence
from maillage.records import actions as record_actions
from maillage.records.models import Document, DocumentType
from maillage.regulation import actions
from maillage.regulation.models import RegulationCase

REASON = "Appel du 15 : douleur thoracique, demande d'orientation sous 24 h"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nCompte rendu\n%%EOF"


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "file-keys.json")
    settings.MAILLAGE_FILE_KEYS = ""


def by_matricule(patient) -> IdentityEvidence:
    return IdentityEvidence("", patient.ins_matricule)


def open_case_about(personas, hours: int = 4) -> RegulationCase:
    return actions.open_case(personas.regulator, by_matricule(personas.patient), REASON, hours)


def file_report(personas, title: str = "Compte rendu du 2 novembre") -> Document:
    return record_actions.file_document(
        personas.treating_doctor.user,
        personas.patient,
        record_actions.NewDocument(
            DocumentType.TELECONSULTATION_REPORT, title, dt.date(2026, 11, 2)
        ),
        uploads=[record_actions.Upload("cr.pdf", PDF)],
    )
