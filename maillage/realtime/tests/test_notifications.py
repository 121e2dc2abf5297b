"""The bell in the header and the notifications page."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from maillage.realtime import events
from maillage.realtime.tests.conftest import signed_in_session

pytestmark = pytest.mark.django_db


def _client(user, *, second_factor: bool = True) -> Client:
    client = Client()
    client.cookies["sessionid"] = signed_in_session(user, second_factor=second_factor)
    return client


def _bell(html: str) -> tuple[int, int]:
    found = re.search(r'data-last-seq="(\d+)".*?data-bell-count>(\d+)<', html, re.S)
    assert found, "no bell on the page"
    return int(found.group(1)), int(found.group(2))


def test_the_bell_counts_what_arrived_since_the_list_was_opened(personas) -> None:
    user = personas.treating_doctor.user
    client = _client(user)
    assert _bell(client.get("/").content.decode()) == (0, 0)
    for _ in range(3):
        events.publish(
            user.pk,
            events.MESSAGE_NEW,
            {"thread": "9f0e7a52-0000-4000-8000-000000000001", "count": 1},
        )
    home = client.get("/").content.decode()
    assert _bell(home) == (3, 3)
    assert 'src="/static/maillage/js/realtime.js"' in home

    page = client.get("/notifications/")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count("Nouveau message dans une conversation") == 3
    assert text.count('href="/messagerie/9f0e7a52-0000-4000-8000-000000000001/"') == 3
    # Opening the list clears the bell; the page itself was rendered before.
    assert _bell(client.get("/").content.decode()) == (3, 0)


def test_no_bell_before_the_second_factor(personas) -> None:
    client = _client(personas.treating_doctor.user, second_factor=False)
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/comptes/")
    login = client.get(response["Location"]).content.decode()
    assert "data-realtime-bell" not in login
    assert "realtime.js" not in login


def test_anonymous_is_sent_to_sign_in(personas) -> None:
    response = Client().get("/notifications/")
    assert response.status_code == 302
    assert "/comptes/connexion/" in response["Location"]


def test_a_notification_with_a_forged_thread_is_listed_without_a_link(personas) -> None:
    user = personas.nurse.user
    events.publish(user.pk, events.MESSAGE_NEW, {"thread": "../../admin/", "count": 1})
    text = _client(user).get("/notifications/").content.decode()
    assert "Nouveau message dans une conversation" in text
    assert "admin" not in text
