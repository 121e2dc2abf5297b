"""The demo patient's record: real documents, sealed, behind the gate."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from maillage.accounts.models import User
from maillage.demo.tests import DEMO_ON_SQLITE
from maillage.files import storage
from maillage.policy.gate import PatientNotFound, open_record
from maillage.records.models import DocumentType

pytestmark = DEMO_ON_SQLITE


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "keys.json")
    settings.MAILLAGE_FILE_KEYS = ""


@pytest.mark.django_db
def test_it_files_readable_pdfs_once(capsys) -> None:
    call_command("load_demo")
    call_command("load_demo")
    capsys.readouterr()
    doctor = User.objects.get(username="medecin.traitant")
    patient = User.objects.get(username="patient").patient_record
    documents = open_record(doctor, patient).documents()
    # Three filed by her, the dermatologist's tele-expertise opinion (test_demo_expertise),
    # the report and prescription of her past teleconsultation (test_demo_acts), and those
    # of her assisted one in the van (test_demo_assisted).
    assert len(documents) == 8
    assert sum(d.type == DocumentType.TELEEXPERTISE_OPINION for d in documents) == 1
    for document in documents:
        data = storage.read(document.document_files.get().file)
        assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
    nurse = User.objects.get(username="infirmier")
    assert len(open_record(nurse, patient).documents()) == 8
    with pytest.raises(PatientNotFound):
        open_record(User.objects.get(username="cardiologue"), patient)
