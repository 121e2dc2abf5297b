from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from maillage.demo import data
from maillage.demo.builder import load_demo
from maillage.demo.tests import DEMO_ON_SQLITE

pytestmark = [pytest.mark.django_db, DEMO_ON_SQLITE]


def _run() -> str:
    out = StringIO()
    call_command("demo_logins", stdout=out)
    return out.getvalue()


def test_it_says_when_the_demo_is_not_loaded() -> None:
    output = _run()
    assert "n'est pas chargé" in output
    assert data.DEMO_PASSWORD not in output


def test_it_prints_every_login_role_and_the_password(settings) -> None:
    settings.DEMO_MODE = True
    load_demo()

    output = _run()

    for login in data.LOGINS:
        assert login.username in output
        assert login.what_to_try in output
    assert "Médecin" in output and "Équipe de télésurveillance" in output
    assert f"Mot de passe commun : {data.DEMO_PASSWORD}" in output
    assert "sans second facteur" in output
    assert "[absent]" not in output


def test_it_warns_that_the_second_factor_is_needed_outside_demo_mode(settings) -> None:
    settings.DEMO_MODE = False
    load_demo()

    assert "devront enrôler un second facteur" in _run()
