"""Record pages through HTTP: status, database state, audit trail."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from maillage.audit.models import Action, AuditEntry
from maillage.front.tests.test_home import signed_in
from maillage.records import actions
from maillage.records.models import (
    BreakGlassAccess,
    CareTeamMember,
    Consent,
    ConsentKind,
    DocumentType,
)
from maillage.records.tests.conftest import PDF
from maillage.testing.factories import page_text

REASON = "Malaise à domicile, patiente inconsciente, pas de proche"


def _file(personas, title: str = "CR", doc_type: str = DocumentType.TELECONSULTATION_REPORT):
    return actions.file_document(
        personas.treating_doctor.user,
        personas.patient,
        actions.NewDocument(doc_type, title, dt.date(2026, 11, 2)),
        uploads=[actions.Upload("cr.pdf", PDF)],
    )


@pytest.mark.django_db
def test_the_record_page_lists_what_the_user_may_see(personas) -> None:
    _file(personas, "Compte rendu visible")
    response = signed_in(personas.treating_doctor.user).get(f"/dossier/{personas.patient.uuid}/")
    assert response.status_code == 200
    text = page_text(response)
    assert "Compte rendu visible" in text and "Déposer un document" in text
    assert AuditEntry.objects.filter(action=Action.RECORD_READ, basis="treating_doctor").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who", ["cardiologist", "coordinator", "social_worker", "analyst", "admin"]
)
def test_others_get_not_found_with_the_emergency_way_only_if_allowed(personas, who) -> None:
    response = signed_in(personas.user(who)).get(f"/dossier/{personas.patient.uuid}/")
    assert response.status_code == 404
    text = page_text(response)
    assert "Introuvable" in text
    assert ("Accès en urgence (bris de glace)" in text) == (who == "cardiologist")


@pytest.mark.django_db
def test_a_missing_record_looks_like_a_refused_one(personas) -> None:
    client = signed_in(personas.cardiologist.user)
    missing = client.get("/dossier/0b6cbd5c-4a5c-4b8e-8a30-1c0d5b2f6a11/")
    refused = client.get(f"/dossier/{personas.patient.uuid}/")
    assert missing.status_code == refused.status_code == 404

    def main(response) -> str:
        # The page body, without the per-response CSRF token of the header.
        text = page_text(response)
        return text[text.index("<main") : text.index("</main>")]

    assert main(missing).replace("0b6cbd5c-4a5c-4b8e-8a30-1c0d5b2f6a11", "X") == main(
        refused
    ).replace(str(personas.patient.uuid), "X")


@pytest.mark.django_db
def test_a_corrupted_file_gets_a_clear_page_not_an_error(personas) -> None:
    document = _file(personas)
    stored = document.document_files.get().file
    blob = Path(django_settings.MAILLAGE_FILES_DIR) / str(stored.uuid)[:2] / f"{stored.uuid}.sealed"
    blob.write_bytes(blob.read_bytes()[:-3] + b"xyz")
    response = signed_in(personas.treating_doctor.user).get(
        f"/dossier/documents/{document.uuid}/fichiers/{stored.uuid}/"
    )
    assert response.status_code == 409
    assert "Ce fichier ne peut pas être lu" in page_text(response)
    assert AuditEntry.objects.filter(action=Action.FILE_INTEGRITY_FAILED).exists()


@pytest.mark.django_db
def test_a_file_of_another_document_is_not_served(personas) -> None:
    first, second = _file(personas, "A"), _file(personas, "B")
    other_file = second.document_files.get().file
    response = signed_in(personas.treating_doctor.user).get(
        f"/dossier/documents/{first.uuid}/fichiers/{other_file.uuid}/"
    )
    assert response.status_code == 404


@pytest.mark.django_db
def test_the_upload_form_explains_refusals(personas) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = signed_in(personas.treating_doctor.user)
    url = f"/dossier/{personas.patient.uuid}/ajouter/"
    response = client.post(
        url,
        {
            "type": "teleconsultation_report",
            "title": "X",
            "date": "2026-11-02",
            "attachments": SimpleUploadedFile("x.pdf", b"<html><script>"),
        },
    )
    assert response.status_code == 400
    assert "Ce fichier contient une page web, un script" in page_text(response)
    nothing = client.post(
        url, {"type": "teleconsultation_report", "title": "X", "date": "2999-01-01"}
    )
    assert nothing.status_code == 400
    text = page_text(nothing)
    assert (
        "La date du document est dans le futur." in text and "Joignez au moins un fichier." in text
    )


@pytest.mark.django_db
def test_break_the_glass_through_the_form(personas) -> None:
    client = signed_in(personas.cardiologist.user)
    form = client.get(f"/dossier/urgence/?patient={personas.patient.uuid}")
    assert form.status_code == 200
    response = client.post(
        "/dossier/urgence/", {"patient": str(personas.patient.uuid), "reason": REASON}
    )
    assert (
        response.status_code == 302 and response["Location"] == f"/dossier/{personas.patient.uuid}/"
    )
    assert BreakGlassAccess.objects.get().reason == REASON
    unknown = client.post(
        "/dossier/urgence/", {"ins_matricule": "2 48 03 18 242 999 12", "reason": REASON}
    )
    assert unknown.status_code == 400
    assert signed_in(personas.coordinator).get("/dossier/urgence/").status_code == 403


@pytest.mark.django_db
def test_the_review_queue_is_for_administrators(personas) -> None:
    access = actions.break_glass(personas.cardiologist.user, personas.patient.uuid, REASON)
    assert (
        signed_in(personas.treating_doctor.user).get("/dossier/revue-urgences/").status_code == 403
    )
    admin = signed_in(personas.admin)
    page = admin.get("/dossier/revue-urgences/")
    assert page.status_code == 200 and REASON in page_text(page)
    listed = AuditEntry.objects.get(action=Action.BREAK_GLASS_REVIEW, actor=personas.admin)
    assert listed.patient == personas.patient
    response = admin.post(
        f"/dossier/revue-urgences/{access.uuid}/", {"outcome": "justified", "note": "ok"}
    )
    assert response.status_code == 302
    access.refresh_from_db()
    assert access.review_outcome == "justified"


@pytest.mark.django_db
def test_the_patient_changes_her_choices(personas) -> None:
    document = _file(personas)
    client = signed_in(personas.patient_user)
    assert client.get("/dossier/mes-choix/").status_code == 200
    assert client.post("/dossier/mes-choix/modifier/", {"decision": "refuse"}).status_code == 302
    client.post("/dossier/mes-choix/modifier/", {"decision": "oppose_emergency"})
    client.post(
        "/dossier/mes-choix/modifier/",
        {"decision": "oppose", "professional": str(personas.treating_doctor.uuid)},
    )
    client.post(
        "/dossier/mes-choix/modifier/",
        {"decision": "name", "professional": str(personas.nurse.uuid)},
    )
    client.post(f"/dossier/documents/{document.uuid}/masquer/")
    kinds = sorted(Consent.objects.values_list("kind", flat=True))
    assert kinds == sorted(
        [
            ConsentKind.SHARING,
            ConsentKind.OPPOSE_EMERGENCY,
            ConsentKind.OPPOSE_PROFESSIONAL,
            ConsentKind.MASK_DOCUMENT,
        ]
    )
    assert CareTeamMember.objects.filter(professional=personas.nurse).exists()
    opposition = Consent.objects.get(kind=ConsentKind.OPPOSE_PROFESSIONAL)
    client.post(
        "/dossier/mes-choix/modifier/", {"decision": "withdraw", "consent": str(opposition.uuid)}
    )
    opposition.refresh_from_db()
    assert opposition.withdrawn_at is not None
    page = page_text(client.get("/dossier/mes-choix/"))
    assert "Vous avez refusé le partage" in page and "retiré le" in page
    # Nonsense is refused with a message, never a 500.
    for bad in [
        {"decision": "withdraw", "consent": "not-a-uuid"},
        {"decision": "oppose"},
        {"decision": "end_place", "member": "abc"},
        {"decision": "???"},
    ]:
        assert client.post("/dossier/mes-choix/modifier/", bad).status_code == 302


@pytest.mark.django_db
def test_a_professional_cannot_use_the_patient_pages(personas) -> None:
    client = signed_in(personas.treating_doctor.user)
    assert client.get("/dossier/mes-documents/").status_code == 404
    assert client.post("/dossier/mes-choix/modifier/", {"decision": "refuse"}).status_code == 404
    assert not Consent.objects.exists()
