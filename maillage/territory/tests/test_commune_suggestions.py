from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_it_returns_options_for_the_datalist(personas) -> None:
    client = Client()
    client.force_login(personas.patient_user)
    response = client.get("/territoire/communes/suggestions/", {"commune": "sanc"})
    assert response.status_code == 200
    assert '<option value="Sancoins (18)">' in response.content.decode()


@pytest.mark.django_db
def test_it_needs_a_signed_in_user() -> None:
    response = Client().get("/territoire/communes/suggestions/", {"commune": "sanc"})
    assert response.status_code == 302
