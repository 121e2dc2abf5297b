"""The inbox: the user's threads only, newest first, unread marked, searchable."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from maillage.front.tests.test_home import signed_in
from maillage.messaging import actions
from maillage.messaging.tests.conftest import fr, send_about_patient
from maillage.testing.factories import page_text

pytestmark = pytest.mark.django_db


def _send(personas, subject: str, body: str = "Bonjour", to=None):
    return actions.send_message(
        personas.treating_doctor.user,
        actions.Draft(subject=subject, body=body, professionals=to or [personas.nurse]),
    )


def _subjects(text: str) -> list[str]:
    return re.findall(r'<a href="/messagerie/[0-9a-f-]+/">(?:<strong>)?([^<]+)', text)


def test_it_lists_the_threads_newest_first_with_unread_marked(personas) -> None:
    _send(personas, "Premier")
    second = _send(personas, "Second")
    # The nurse has read the second one; the first is still unread.
    actions.mark_read(personas.nurse.user, second.thread)

    response = signed_in(personas.nurse.user).get("/messagerie/")

    assert response.status_code == 200
    text = page_text(response)
    assert _subjects(text) == ["Second", "Premier"]
    assert text.count(fr("unread")) == 1
    assert "<strong>Premier</strong>" in text
    assert "<strong>Second</strong>" not in text


def test_a_reply_brings_a_thread_back_to_the_top(personas) -> None:
    first = _send(personas, "Premier")
    _send(personas, "Second")
    actions.reply(personas.nurse.user, first.thread, "Réponse")
    text = page_text(signed_in(personas.treating_doctor.user).get("/messagerie/"))
    assert _subjects(text) == ["Premier", "Second"]


def test_it_shows_no_patient_name_in_the_list(personas) -> None:
    send_about_patient(personas)
    text = page_text(signed_in(personas.treating_doctor.user).get("/messagerie/"))
    assert "Pansement de Mme Girard" in text  # the subject the sender chose
    assert personas.patient.display_name not in text
    assert fr("about a patient") in text


def test_others_do_not_see_the_thread(personas) -> None:
    _send(personas, "Confidentiel")
    text = page_text(signed_in(personas.cardiologist.user).get("/messagerie/"))
    assert "Confidentiel" not in text
    assert fr("No message yet.") in text


def test_it_searches_subjects_and_bodies_of_the_users_threads_only(personas) -> None:
    _send(personas, "Pansement", body="Plaie au talon")
    _send(personas, "Planning", body="Garde de samedi")
    actions.send_message(
        personas.treating_doctor.user,
        actions.Draft(subject="Talon d'Achille", body="x", professionals=[personas.cardiologist]),
    )
    client = signed_in(personas.nurse.user)

    assert _subjects(page_text(client.get("/messagerie/", {"q": "talon"}))) == ["Pansement"]
    assert _subjects(page_text(client.get("/messagerie/", {"q": "planning"}))) == ["Planning"]
    assert _subjects(page_text(client.get("/messagerie/", {"q": "samedi"}))) == ["Planning"]
    empty = page_text(client.get("/messagerie/", {"q": "achille"}))
    assert _subjects(empty) == []
    assert fr("No conversation matches.") in empty


def test_the_list_costs_the_same_number_of_queries_for_more_threads(personas) -> None:
    client = signed_in(personas.nurse.user)
    _send(personas, "Un")
    client.get("/messagerie/")  # warm the session and the site
    with CaptureQueriesContext(connection) as few:
        client.get("/messagerie/")
    for n in range(5):
        _send(personas, f"Fil {n}", to=[personas.nurse, personas.cardiologist])
    with CaptureQueriesContext(connection) as many:
        response = client.get("/messagerie/")
    assert len(_subjects(page_text(response))) == 6
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize("who", ["patient_user", "analyst"])
def test_patients_and_analysts_are_refused(personas, who) -> None:
    assert signed_in(personas.user(who)).get("/messagerie/").status_code == 403


def test_pages_of_thirty_with_their_count(personas) -> None:
    for n in range(32):
        _send(personas, f"Fil {n:02d}")
    client = signed_in(personas.nurse.user)

    first = page_text(client.get("/messagerie/"))
    second = page_text(client.get("/messagerie/", {"page": "2"}))
    beyond = page_text(client.get("/messagerie/", {"page": "9"}))
    found = page_text(client.get("/messagerie/", {"q": "fil"}))

    assert _subjects(first) == [f"Fil {n:02d}" for n in range(31, 1, -1)]
    assert "Page 1 sur 2" in first and fr("Older") in first
    assert _subjects(second) == ["Fil 01", "Fil 00"]
    assert "Page 2 sur 2" in second and fr("Newer") in second
    # A page beyond the last shows the last, as Django's get_page does.
    assert _subjects(beyond) == ["Fil 01", "Fil 00"]
    assert "32 conversations" in found
