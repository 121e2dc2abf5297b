"""More of the pages: a named specialist hands over, shared documents, refused files, cancelling,
and lists whose cost does not grow with their length."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.expertise import actions
from maillage.expertise.models import MessageKind, Request, Status
from maillage.expertise.tests.conftest import PDF
from maillage.files.storage import Upload
from maillage.front.tests.test_home import signed_in
from maillage.messaging.tests.conftest import EXECUTABLE, fr
from maillage.records import actions as records
from maillage.records.models import DocumentType
from maillage.testing import factories as f

pytestmark = pytest.mark.django_db


def _text(response: Any) -> str:
    return html.unescape(response.content.decode())


def _ask(personas: Any, patient: Any = None, **target: Any) -> Request:
    gp = personas.treating_doctor.user
    draft = actions.save_draft(
        gp,
        (patient or personas.patient).uuid,
        actions.Ask(question="Eczéma rebelle. Avis ?", priority="routine", consent=True, **target),
    )
    return actions.submit(gp, draft.uuid)


def test_a_named_specialist_takes_it_then_hands_it_over(personas: Any, dermatology: Any) -> None:
    gp = signed_in(personas.treating_doctor.user)
    response = gp.post(
        f"/teleexpertise/demander/{personas.patient.uuid}/",
        {
            "question": "Eczéma rebelle. Avis ?",
            "specialist": str(dermatology.first.uuid),
            "priority": "routine",
            "consent": "on",
            "send": "1",
        },
    )
    assert response.status_code == 302
    item = Request.objects.get()
    assert item.assignee == dermatology.first and item.pool is None
    url = f"/teleexpertise/{item.uuid}/"

    first = signed_in(dermatology.first.user)
    page = _text(first.get(url))
    assert fr("Take this request") in page
    assert fr("Hand over to a colleague") in page and "Dr Jules Petit" in page
    # Not someone outside her pools: said on the form, nothing changed.
    stranger = first.post(f"{url}confier/", {"colleague": str(personas.cardiologist.uuid)})
    assert stranger.status_code == 400
    item.refresh_from_db()
    assert item.assignee == dermatology.first

    handed = first.post(f"{url}confier/", {"colleague": str(dermatology.second.uuid)})
    assert handed.status_code == 302 and handed["Location"] == "/teleexpertise/file/"
    item.refresh_from_db()
    assert item.assignee == dermatology.second and item.status == Status.WAITING
    assert item.messages.filter(kind=MessageKind.HANDED_OVER).count() == 1
    # She no longer takes part; he finds it in his queue and takes it.
    assert first.get(url).status_code == 404
    second = signed_in(dermatology.second.user)
    assert personas.patient.display_name in _text(second.get("/teleexpertise/file/"))
    assert second.post(f"{url}prendre/").status_code == 302
    item.refresh_from_db()
    assert item.status == Status.CLAIMED


def test_shared_documents_are_served_to_the_participants_only(
    personas: Any, dermatology: Any
) -> None:
    gp_user = personas.treating_doctor.user
    document = records.file_document(
        gp_user,
        personas.patient,
        records.NewDocument(
            type=DocumentType.LIAISON_LETTER, title="Courrier", date=timezone.localdate()
        ),
        uploads=[Upload("courrier.pdf", PDF)],
    )
    item = _ask(personas, pool_uuid=dermatology.pool.uuid, document_uuids=[document.uuid])
    stored = document.document_files.get().file
    url = f"/teleexpertise/{item.uuid}/documents/{document.uuid}/{stored.uuid}/"

    member = signed_in(dermatology.first.user)
    page = _text(member.get(f"/teleexpertise/{item.uuid}/"))
    assert "courrier.pdf" in page
    served = member.get(url)
    assert served.status_code == 200 and served.content == PDF
    opened = AuditEntry.objects.filter(
        actor=dermatology.first.user, action=Action.EXPERTISE_DOCUMENT, outcome=Outcome.GRANTED
    )
    assert opened.filter(detail__document=str(document.uuid)).count() == 1
    # A stranger, and a file that is not the document's, get "not found".
    assert signed_in(personas.cardiologist.user).get(url).status_code == 404
    other = f"/teleexpertise/{item.uuid}/documents/{document.uuid}/{item.uuid}/"
    assert member.get(other).status_code == 404


def test_a_refused_file_is_said_and_what_was_typed_is_kept(personas: Any, dermatology: Any) -> None:
    gp = signed_in(personas.treating_doctor.user)
    response = gp.post(
        f"/teleexpertise/demander/{personas.patient.uuid}/",
        {
            "question": "Ulcère de jambe, photo jointe.",
            "pool": str(dermatology.pool.uuid),
            "priority": "soon",
            "consent": "on",
            "photos": SimpleUploadedFile("ulcere.png", EXECUTABLE, "image/png"),
            "send": "1",
        },
    )
    assert response.status_code == 400
    page = _text(response)
    assert "Ulcère de jambe, photo jointe." in page
    refused = "This file is a program or an archive: it cannot be stored in a health record."
    assert fr(refused) in page
    assert Request.objects.count() == 0  # nothing half-saved


def test_the_requester_cancels_and_it_says_so(personas: Any, dermatology: Any) -> None:
    item = _ask(personas, pool_uuid=dermatology.pool.uuid)
    gp = signed_in(personas.treating_doctor.user)
    # A pool member may not cancel it.
    member = signed_in(dermatology.first.user)
    assert member.post(f"/teleexpertise/{item.uuid}/annuler/", {}).status_code == 404
    done = gp.post(f"/teleexpertise/{item.uuid}/annuler/", {"reason": "Vu en consultation."})
    assert done.status_code == 302
    item.refresh_from_db()
    assert item.status == Status.CANCELLED
    assert "Vu en consultation." in _text(gp.get(f"/teleexpertise/{item.uuid}/"))
    assert personas.patient.display_name in _text(gp.get("/teleexpertise/?vue=terminees"))


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _other_patient(personas: Any, n: int) -> Any:
    """Another patient of the same GP: a list of six requests names six patients."""
    return f.patient(
        f"LISTE{n}",
        "Anne",
        treating_doctor=personas.treating_doctor,
        followed_by=(personas.msp,),
    )


def test_the_lists_cost_the_same_for_two_requests_or_six(personas: Any, dermatology: Any) -> None:
    for n in range(2):
        _ask(personas, _other_patient(personas, n), pool_uuid=dermatology.pool.uuid)
    gp = signed_in(personas.treating_doctor.user)
    member = signed_in(dermatology.first.user)
    before = (_queries(gp, "/teleexpertise/"), _queries(member, "/teleexpertise/file/"))
    for n in range(2, 6):
        _ask(personas, _other_patient(personas, n), pool_uuid=dermatology.pool.uuid)
    after = (_queries(gp, "/teleexpertise/"), _queries(member, "/teleexpertise/file/"))
    assert after == before
