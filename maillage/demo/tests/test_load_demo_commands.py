"""The demo command on an empty database: loaded twice, asked only if empty, refused in production.

Apart from ``test_load_demo``, whose tests share one loaded demo.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from maillage.accounts.models import User
from maillage.demo import data
from maillage.demo.tests.test_load_demo import _counts, _load

pytestmark = pytest.mark.django_db


def test_it_loads_twice_without_duplicating_anything() -> None:
    first = _load()
    after_first = _counts()
    second = _load()
    assert _counts() == after_first
    assert "Ajouts de ce chargement : 112 structures" in first
    assert "aucun (tout était déjà là)" in second
    assert "Mot de passe commun : " + data.DEMO_PASSWORD in second


def test_it_does_nothing_when_asked_if_empty_and_loaded() -> None:
    out = StringIO()
    call_command("load_demo", "--if-empty", stdout=out)
    assert "Territoire de démonstration chargé" in out.getvalue()
    before = _counts()
    User.objects.filter(username="analyste").delete()

    out = StringIO()
    call_command("load_demo", "--if-empty", stdout=out)

    assert "déjà chargée" in out.getvalue()
    assert not User.objects.filter(username="analyste").exists()
    assert _counts()["patients"] == before["patients"]


def test_it_refuses_an_instance_in_production(settings) -> None:
    settings.HTTPS = True
    settings.DEMO_MODE = False
    with pytest.raises(CommandError):
        call_command("load_demo", stdout=StringIO())
    assert not User.objects.filter(username="medecin.traitant").exists()
