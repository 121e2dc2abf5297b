from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client, override_settings

from maillage.audit.models import Action, AuditEntry
from maillage.testing.factories import PASSWORD, page_text


@pytest.mark.django_db
def test_it_locks_sign_in_after_repeated_failures(personas) -> None:
    client = Client(REMOTE_ADDR="192.0.2.10")
    for _ in range(4):
        response = client.post("/comptes/connexion/", {"username": "secretaire", "password": "x"})
        assert response.status_code == 200
        assert "Nom d'utilisateur ou mot de passe incorrect." in page_text(response)
    locked = client.post("/comptes/connexion/", {"username": "secretaire", "password": "x"})
    assert locked.status_code == 429
    assert "Trop de tentatives échouées" in page_text(locked)
    # Even the right password is refused while locked.
    again = client.post("/comptes/connexion/", {"username": "secretaire", "password": PASSWORD})
    assert again.status_code == 429
    assert AuditEntry.objects.filter(action=Action.LOGIN_FAILED).count() >= 5
    # Another account from the same address is not locked.
    other = client.post("/comptes/connexion/", {"username": "regulateur", "password": PASSWORD})
    assert other.status_code == 302


@pytest.mark.django_db
def test_it_signs_in_and_out_with_audit(personas) -> None:
    client = Client()
    response = client.post("/comptes/connexion/", {"username": "patient", "password": PASSWORD})
    assert response.status_code == 302
    client.post("/comptes/deconnexion/")
    actions = list(
        AuditEntry.objects.filter(actor=personas.patient_user).values_list("action", flat=True)
    )
    assert actions == [Action.LOGIN, Action.LOGOUT]
    assert client.get("/").status_code == 302


def test_passwords_are_hashed_with_argon2() -> None:
    settings_module = importlib.import_module("maillage.settings")
    assert settings_module.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    with override_settings(PASSWORD_HASHERS=settings_module.PASSWORD_HASHERS):
        assert make_password("s3cret-long-enough").startswith("argon2$")


def test_https_mode_secures_cookies_and_transport() -> None:
    code = (
        "import maillage.settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS > 0, s.SESSION_COOKIE_HTTPONLY)"
    )
    env = {**os.environ, "MAILLAGE_HTTPS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["True", "True", "True", "True", "True"]
