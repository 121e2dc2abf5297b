"""Lists never show what opening refuses: the two disagreements the property test found.

1. A doctor who opened a record in an emergency (and also follows patients
   through a structure) kept the patient in his patient list after she
   opposed emergency access, although opening her identity was refused.
2. A professional the patient opposed kept her thread in his inbox, and his
   whole FHIR Communication search answered 404 because of that one thread.
"""

from __future__ import annotations

from typing import Any

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import Api, fhir_json
from maillage.front.tests.test_home import signed_in
from maillage.messaging import actions as messaging
from maillage.records import actions as records
from maillage.testing.factories import page_text

REASON = "Malaise à domicile, patiente inconsciente, pas de proche"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nCourrier de liaison\n%%EOF"


@pytest.fixture(autouse=True)
def private_files(settings: Any, tmp_path: Any) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "file-keys.json")
    settings.MAILLAGE_FILE_KEYS = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.mark.django_db
def test_an_emergency_opening_lists_no_patient_who_then_opposed_it(personas) -> None:
    cardiologist = personas.cardiologist.user
    # His role also lists by other relations (structure, médecin traitant): the old
    # filter applied the opposition only to roles that list by emergency alone.
    cardiologist_client = signed_in(cardiologist)
    records.break_glass(cardiologist, personas.patient.uuid, REASON)
    assert "GIRARD" in page_text(cardiologist_client.get("/patients/"))

    records.oppose_emergency_access(personas.patient_user, personas.patient)

    assert "GIRARD" not in page_text(cardiologist_client.get("/patients/"))
    assert cardiologist_client.get(f"/patients/{personas.patient.uuid}/").status_code == 404
    refused = AuditEntry.objects.filter(
        action=Action.PATIENT_READ, actor=cardiologist, patient=personas.patient
    ).get()
    assert (refused.outcome, refused.detail["rule"]) == (Outcome.DENIED, "opposed_emergency")


@pytest.mark.django_db
def test_an_opposed_professional_loses_the_thread_from_every_list(personas) -> None:
    doctor = personas.treating_doctor
    message = messaging.send_message(
        personas.nurse.user,
        messaging.Draft(
            subject="Pansement de Mme Girard",
            body="Plaie du talon à revoir.",
            professionals=[doctor],
            patient_uuid=personas.patient.uuid,
            uploads=[messaging.Upload("liaison.pdf", PDF)],
        ),
    )
    other = messaging.send_message(
        personas.nurse.user,
        messaging.Draft(subject="Garde du week-end", body="Planning", professionals=[doctor]),
    )
    client, api = signed_in(doctor.user), Api(signed_in(doctor.user))
    assert "Pansement de Mme Girard" in page_text(client.get("/messagerie/"))

    records.oppose_professional(personas.patient_user, personas.patient, doctor)

    inbox = page_text(client.get("/messagerie/"))
    assert "Pansement de Mme Girard" not in inbox and "Garde du week-end" in inbox
    assert client.get(f"/messagerie/{message.thread.uuid}/").status_code == 404
    # The search still answers, without the thread he may no longer read.
    response = api.get("Communication", doctor)
    assert response.status_code == 200
    listed = {e["resource"]["id"] for e in fhir_json(response).get("entry", [])}
    assert listed == {str(other.uuid)}
    assert api.get(f"Communication/{message.uuid}", doctor).status_code == 404
    # Nothing about her was handed over after the opposition: only refusals.
    after = AuditEntry.objects.filter(
        actor=doctor.user, patient=personas.patient, action=Action.MESSAGE_READ
    )
    assert after.exists()
    assert set(after.values_list("outcome", flat=True)) == {Outcome.DENIED}
