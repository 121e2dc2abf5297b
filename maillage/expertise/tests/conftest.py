from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from maillage.directory.models import Professional
from maillage.directory.terminology import Specialty
from maillage.expertise.models import Pool
from maillage.testing import factories as f

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nPhoto de la lesion\n%%EOF"


@pytest.fixture(autouse=True)
def private_files(settings: Any, tmp_path: Any) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "file-keys.json")
    settings.MAILLAGE_FILE_KEYS = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@dataclass
class Dermatology:
    pool: Pool
    first: Professional  # answers tele-expertise
    second: Professional  # answers tele-expertise
    coordinator: Professional  # coordinates, does not answer


@pytest.fixture
def dermatology(personas: Any) -> Dermatology:
    first = f.professional(
        "dermato.un",
        last_name="Bernard",
        first_name="Lucie",
        specialty=Specialty.DERMATOLOGY,
        structures=(personas.hospital,),
        accepts_teleexpertise=True,
        teleexpertise_response_hours=48,
    )
    second = f.professional(
        "dermato.deux",
        last_name="Petit",
        first_name="Jules",
        specialty=Specialty.DERMATOLOGY,
        accepts_teleexpertise=True,
        teleexpertise_response_hours=72,
    )
    coordinator = f.professional(
        "dermato.coord",
        last_name="Garnier",
        first_name="Anne",
        specialty=Specialty.DERMATOLOGY,
    )
    pool = f.pool(
        "Dermatologie — Cher", Specialty.DERMATOLOGY, (first, second, (coordinator, True))
    )
    for entry in (first, second, coordinator, personas.treating_doctor, personas.nurse):
        account = entry.user
        assert account is not None
        account.email = f"{account.username}@example.org"
        account.save(update_fields=["email"])
    return Dermatology(pool, first, second, coordinator)
