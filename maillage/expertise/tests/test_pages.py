"""The tele-expertise pages through Django's client: ask, lists, the request and its controls."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.expertise import actions
from maillage.expertise.models import MessageKind, Request, Status
from maillage.expertise.tests.conftest import PDF
from maillage.files.storage import Upload
from maillage.front.tests.test_home import signed_in
from maillage.messaging.tests.conftest import fr
from maillage.testing import factories as f

pytestmark = pytest.mark.django_db


def _sent(personas: Any, dermatology: Any, **kw: Any) -> Request:
    gp = personas.treating_doctor.user
    draft = actions.save_draft(
        gp,
        personas.patient.uuid,
        actions.Ask(
            question=kw.get("question", "Lésion pigmentée du dos. Exérèse ?"),
            priority="soon",
            pool_uuid=dermatology.pool.uuid,
            uploads=[Upload("lesion.pdf", PDF)],
            consent=True,
        ),
    )
    return actions.submit(gp, draft.uuid)


def _text(response: Any) -> str:
    """The page as read (entities such as &#x27; turned back into characters)."""
    return html.unescape(response.content.decode())


def test_the_record_offers_to_ask_and_the_form_sends(personas: Any, dermatology: Any) -> None:
    gp = signed_in(personas.treating_doctor.user)
    record = gp.get(f"/dossier/{personas.patient.uuid}/")
    assert fr("Ask for a tele-expertise") in _text(record)
    url = f"/teleexpertise/demander/{personas.patient.uuid}/"
    form = gp.get(url)
    assert form.status_code == 200
    page = _text(form)
    # The pool with its members' announced times.
    assert "Dermatologie — Cher" in page
    assert fr("answers within %(days)d days") % {"days": 2} in page
    assert 'capture="environment"' in page and 'accept="image/*' in page

    response = gp.post(
        url,
        {
            "question": "Lésion pigmentée du dos, évolutive. Exérèse ?",
            "pool": str(dermatology.pool.uuid),
            "priority": "soon",
            "consent": "on",
            "photos": SimpleUploadedFile("lesion.pdf", PDF, "application/pdf"),
            "send": "1",
        },
    )
    item = Request.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/teleexpertise/{item.uuid}/"
    assert item.status == Status.WAITING and item.attachments.count() == 1
    detail = _text(gp.get(response["Location"]))
    assert "Lésion pigmentée du dos" in detail
    assert fr("Tele-expertise request") in detail
    assert "Morel" in detail  # consent recorded by her, shown
    assert "lesion.pdf" in detail


def test_a_draft_is_kept_and_bad_input_is_said_in_french(personas: Any, dermatology: Any) -> None:
    gp = signed_in(personas.treating_doctor.user)
    url = f"/teleexpertise/demander/{personas.patient.uuid}/"
    # Sent without the patient's consent: refused on the form, what was typed kept as a draft.
    response = gp.post(
        url,
        {
            "question": "Prurit diffus depuis deux mois.",
            "pool": str(dermatology.pool.uuid),
            "priority": "routine",
            "send": "1",
        },
    )
    assert response.status_code == 400
    page = _text(response)
    assert fr("Record the patient's consent to the tele-expertise.") in page
    assert "Prurit diffus depuis deux mois." in page
    draft = Request.objects.get()
    assert draft.status == Status.DRAFT and draft.question == "Prurit diffus depuis deux mois."
    assert f"/teleexpertise/{draft.uuid}/brouillon/" in page  # the form goes on as the draft's

    # Both a pool and a named specialist: the form says to choose.
    both = gp.post(
        f"/teleexpertise/{draft.uuid}/brouillon/",
        {
            "question": "Prurit diffus depuis deux mois.",
            "pool": str(dermatology.pool.uuid),
            "specialist": str(dermatology.first.uuid),
            "priority": "routine",
            "draft": "1",
        },
    )
    assert both.status_code == 400
    assert fr("Choose a pool or a named specialist, not both.") in _text(both)

    # The list of drafts shows it; it opens again and is sent.
    drafts = _text(gp.get("/teleexpertise/?vue=brouillons"))
    assert f"/teleexpertise/{draft.uuid}/brouillon/" in drafts
    assert _text(gp.get(f"/teleexpertise/{draft.uuid}/")) == ""  # redirected to the form
    sent = gp.post(
        f"/teleexpertise/{draft.uuid}/brouillon/",
        {
            "question": "Prurit diffus depuis deux mois.",
            "pool": str(dermatology.pool.uuid),
            "priority": "routine",
            "consent": "on",
            "send": "1",
        },
    )
    assert sent.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.WAITING
    assert Request.objects.count() == 1


def test_a_stranger_gets_not_found(personas: Any, dermatology: Any) -> None:
    item = _sent(personas, dermatology)
    stranger = signed_in(personas.cardiologist.user)
    assert stranger.get(f"/teleexpertise/{item.uuid}/").status_code == 404
    assert stranger.get(f"/teleexpertise/{item.uuid}/direct/").status_code == 404
    assert stranger.post(f"/teleexpertise/{item.uuid}/prendre/").status_code == 404
    file_uuid = item.attachments.get().file.uuid
    assert stranger.get(f"/teleexpertise/pieces-jointes/{file_uuid}/").status_code == 404
    assert personas.patient.display_name not in _text(stranger.get("/teleexpertise/file/"))
    refused = AuditEntry.objects.filter(
        actor=personas.cardiologist.user, patient=personas.patient, outcome=Outcome.DENIED
    )
    assert refused.filter(action=Action.EXPERTISE_READ).exists()


def test_a_pool_member_sees_it_taken_after_a_colleague_claimed(
    personas: Any, dermatology: Any
) -> None:
    item = _sent(personas, dermatology)
    first = signed_in(dermatology.first.user)
    second = signed_in(dermatology.second.user)
    # Both see it in their queue before anyone takes it.
    for client in (first, second):
        queue = _text(client.get("/teleexpertise/file/"))
        assert personas.patient.display_name in queue
    listed = AuditEntry.objects.filter(
        actor=dermatology.second.user, action=Action.EXPERTISE_READ, patient=personas.patient
    )
    assert listed.filter(detail__listed=[str(item.uuid)]).count() == 1

    assert first.post(f"/teleexpertise/{item.uuid}/prendre/").status_code == 302
    # The late one is told, in French, and sees it taken without the patient.
    late = second.post(f"/teleexpertise/{item.uuid}/prendre/", follow=True)
    assert fr("A colleague took this request first.") in _text(late)
    taken = second.get(f"/teleexpertise/{item.uuid}/")
    assert taken.status_code == 404
    assert fr("Taken by a colleague") in _text(taken) and "Bernard" in _text(taken)
    assert personas.patient.display_name not in _text(taken)
    queue = _text(second.get("/teleexpertise/file/"))
    assert fr("Taken by a colleague") in queue and str(item.uuid)[:8] in queue
    assert personas.patient.display_name not in queue


def test_the_whole_cycle_through_the_pages(personas: Any, dermatology: Any) -> None:
    item = _sent(personas, dermatology)
    url = f"/teleexpertise/{item.uuid}/"
    gp = signed_in(personas.treating_doctor.user)
    specialist = signed_in(dermatology.first.user)
    specialist.post(f"{url}prendre/")

    # An empty message is refused on the form, in French, never a 500.
    empty = specialist.post(f"{url}ecrire/", {"body": "", "step": "more"})
    assert empty.status_code == 400
    assert "Ce champ est obligatoire." in _text(empty)

    more = specialist.post(f"{url}ecrire/", {"body": "Diamètre ? Bords ?", "step": "more"})
    assert more.status_code == 302
    item.refresh_from_db()
    assert item.status == Status.ON_HOLD

    # The requester cannot conclude: she is not the request's specialist.
    refused = gp.post(f"{url}conclure/", {"text": "Je conclus.", "recommendation": "none"})
    assert refused.status_code == 404
    mine = _text(gp.get("/teleexpertise/"))
    assert fr("Needs your reply") in mine and personas.patient.display_name in mine

    reply = gp.post(
        f"{url}ecrire/",
        {
            "body": "8 mm, bords irréguliers.",
            "step": "reply",
            "photos": SimpleUploadedFile("bords.pdf", PDF, "application/pdf"),
        },
    )
    assert reply.status_code == 302
    item.refresh_from_db()
    assert item.status == Status.CLAIMED

    # A conclusion without a recommendation from the list is said on the form.
    bad = specialist.post(f"{url}conclure/", {"text": "Exérèse.", "recommendation": "surgery"})
    assert bad.status_code == 400
    done = specialist.post(
        f"{url}conclure/",
        {"text": "Exérèse recommandée en consultation.", "recommendation": "consultation"},
    )
    assert done.status_code == 302
    item.refresh_from_db()
    assert item.status == Status.CONCLUDED and item.opinion is not None
    page = _text(gp.get(url))
    assert "TE2" in page and "RQD" in page
    assert f"/dossier/documents/{item.opinion.uuid}/" in page
    assert fr("an in-person consultation") in page
    kinds = list(item.messages.values_list("kind", flat=True))
    assert kinds[-1] == MessageKind.CONCLUSION

    # The live part of the page is what the script fetches on an event.
    fragment = gp.get(f"{url}direct/")
    assert fragment.status_code == 200
    assert "8 mm, bords irréguliers." in _text(fragment)
    assert "<html" not in _text(fragment)
    # The attachment of the reply is served to the specialist, as a download.
    attachment = item.attachments.get(message__kind=MessageKind.REPLY)
    served = specialist.get(f"/teleexpertise/pieces-jointes/{attachment.file.uuid}/")
    assert served.status_code == 200 and served["Content-Disposition"].startswith("attachment")


def test_the_late_list_is_for_coordinators_and_names_no_patient(
    personas: Any, dermatology: Any
) -> None:
    item = _sent(personas, dermatology)
    Request.objects.filter(pk=item.pk).update(due_at=timezone.now() - dt.timedelta(hours=2))
    coordinator = signed_in(dermatology.coordinator.user)
    page = coordinator.get("/teleexpertise/retards/")
    assert page.status_code == 200
    text = _text(page)
    assert str(item.uuid)[:8] in text and "Dermatologie — Cher" in text
    assert personas.patient.display_name not in text
    assert signed_in(dermatology.first.user).get("/teleexpertise/retards/").status_code == 403
    # In the member's queue, it is flagged late.
    queue = _text(signed_in(dermatology.first.user).get("/teleexpertise/file/"))
    assert fr("late") in queue


def test_a_patient_has_no_tele_expertise_pages(personas: Any) -> None:
    client = signed_in(personas.patient_user)
    assert client.get("/teleexpertise/").status_code == 403
    other = f.patient("DURAND", "Paul")
    assert (
        signed_in(personas.treating_doctor.user)
        .get(f"/teleexpertise/demander/{other.uuid}/")
        .status_code
        == 404
    )
    assert isinstance(client, Client)
