"""UNCLASSIFIED documents (a LOINC type naming none of ours): who reads them, who files them.

The habilitation matrix decides, as for every type: by default doctors
only, since nothing says what such a document holds. An attacker's ways in
are tried: a nurse of the care team, a professional outside it, guessing the
id, a pharmacist, and each refusal is audited.
"""

from __future__ import annotations

import datetime as dt
import importlib

import pytest

from maillage.accounts.models import Role
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.directory.terminology import Profession
from maillage.fhir.tests.conftest import PDF, document, in_care_team
from maillage.policy.gate import DocumentNotFound, get_document, open_record
from maillage.records import actions as record_actions
from maillage.records.habilitations import DEFAULT_MATRIX
from maillage.records.models import DocumentType, HabilitationRule
from maillage.testing import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_files")]

UNCLASSIFIED = DocumentType.UNCLASSIFIED


@pytest.fixture
def private_files(settings, tmp_path) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "file-keys.json")
    settings.MAILLAGE_FILE_KEYS = ""


def _consult_note(personas):
    return document(personas.treating_doctor, personas.patient, UNCLASSIFIED, loinc_code="11488-4")


def _refusal(user) -> AuditEntry:
    return AuditEntry.objects.filter(action=Action.DOCUMENT_READ, actor=user).get()


def test_by_default_only_doctors_read_and_write_it() -> None:
    readers = {role for role, types in DEFAULT_MATRIX.items() if types.get(UNCLASSIFIED, (0, 0))[0]}
    writers = {role for role, types in DEFAULT_MATRIX.items() if types.get(UNCLASSIFIED, (0, 0))[1]}
    assert (readers, writers) == ({"doctor"}, {"doctor"})
    f.ensure_habilitations()
    assert HabilitationRule.objects.filter(document_type=UNCLASSIFIED).count() == 1


def test_the_migration_gives_existing_installations_the_doctors_row() -> None:
    # A transactional test elsewhere may have emptied the rows the migration
    # wrote, so its function is run here on a matrix without the new type.
    from django.apps import apps

    migration = importlib.import_module("maillage.records.migrations.0003_document_loinc_type")
    f.ensure_habilitations()
    HabilitationRule.objects.filter(document_type=UNCLASSIFIED).delete()

    migration.unclassified_for_doctors(apps, None)
    migration.unclassified_for_doctors(apps, None)  # run twice: still one row

    rows = HabilitationRule.objects.filter(document_type=UNCLASSIFIED)
    assert [(r.role, r.can_read, r.can_write) for r in rows] == [("doctor", True, True)]


def test_a_doctor_of_the_care_team_reads_it(personas) -> None:
    note = _consult_note(personas)
    in_care_team(personas.cardiologist, personas.patient)

    found, _opened = get_document(personas.cardiologist.user, note.uuid)

    assert found == note


def test_a_nurse_of_the_care_team_is_refused_and_it_is_audited(personas) -> None:
    note = _consult_note(personas)
    in_care_team(personas.nurse, personas.patient)

    with pytest.raises(DocumentNotFound):
        get_document(personas.nurse.user, note.uuid)

    entry = _refusal(personas.nurse.user)
    assert entry.outcome == Outcome.DENIED
    assert entry.detail["rule"] == "habilitation"
    assert entry.detail["type"] == UNCLASSIFIED
    # Nor does it show in the record she may open.
    opened = open_record(personas.nurse.user, personas.patient)
    assert note not in opened.documents()


def test_a_doctor_outside_the_care_team_is_refused_by_relation(personas) -> None:
    note = _consult_note(personas)
    outsider = f.professional(
        "medecin.ailleurs", last_name="Petit", structures=(personas.hospital,)
    )

    assert outsider.user is not None
    with pytest.raises(DocumentNotFound):
        get_document(outsider.user, note.uuid)

    assert _refusal(outsider.user).detail["rule"] == "relation"


def test_a_pharmacist_following_the_patient_is_refused(personas) -> None:
    note = _consult_note(personas)
    pharmacist = f.professional(
        "pharmacien",
        last_name="Leroy",
        profession=Profession.PHARMACIST,
        structures=(personas.msp,),
    )
    in_care_team(pharmacist, personas.patient)

    assert pharmacist.user is not None
    with pytest.raises(DocumentNotFound):
        get_document(pharmacist.user, note.uuid)

    assert _refusal(pharmacist.user).detail["rule"] == "habilitation"


def test_the_patient_reads_her_own(personas) -> None:
    note = _consult_note(personas)

    found, _opened = get_document(personas.patient_user, note.uuid)

    assert found == note


def test_the_matrix_is_data_an_administrator_widens_it(personas) -> None:
    note = _consult_note(personas)
    in_care_team(personas.nurse, personas.patient)
    HabilitationRule.objects.create(role=Role.NURSE, document_type=UNCLASSIFIED, can_read=True)

    found, _opened = get_document(personas.nurse.user, note.uuid)

    assert found == note


def test_a_nurse_may_not_file_one_even_through_the_action(personas) -> None:
    in_care_team(personas.nurse, personas.patient)
    new = record_actions.NewDocument(
        type=UNCLASSIFIED, title="Note", date=note_date(), loinc_code="11488-4"
    )

    with pytest.raises(record_actions.RecordRuleBroken):
        record_actions.file_document(
            personas.nurse.user,
            personas.patient,
            new,
            uploads=[record_actions.Upload("n.pdf", PDF)],
        )

    entry = AuditEntry.objects.get(action=Action.DOCUMENT_CREATE)
    assert entry.outcome == Outcome.FAILED and entry.detail["failure"] == "habilitation"


def note_date() -> dt.date:
    return dt.date(2026, 11, 2)
