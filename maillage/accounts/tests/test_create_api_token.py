from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from maillage.accounts.actions import user_for_token
from maillage.accounts.models import ApiToken
from maillage.audit.models import Action, AuditEntry


@pytest.mark.django_db
def test_it_prints_a_token_and_keeps_only_its_hash(personas) -> None:
    out = StringIO()
    call_command(
        "create_api_token", "medecin.traitant", "--label", "logiciel du cabinet", stdout=out
    )
    token = out.getvalue().strip()
    assert token.startswith("mlg_") and len(token) > 40
    stored = ApiToken.objects.get()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {stored.token_hash, stored.prefix, stored.label}
    assert user_for_token(token) == personas.treating_doctor.user
    assert AuditEntry.objects.filter(action=Action.TOKEN_CREATED).exists()


@pytest.mark.django_db
def test_a_revoked_or_unknown_token_opens_nothing(personas) -> None:
    out = StringIO()
    call_command("create_api_token", "secretaire", stdout=out)
    token = out.getvalue().strip()
    ApiToken.objects.update(revoked_at=timezone.now())
    assert user_for_token(token) is None
    assert user_for_token("mlg_made-up") is None
    assert AuditEntry.objects.filter(action=Action.TOKEN_REJECTED).count() == 2


@pytest.mark.django_db
def test_it_refuses_an_unknown_user() -> None:
    with pytest.raises(CommandError, match="No active user"):
        call_command("create_api_token", "personne")


@pytest.mark.django_db
def test_createsuperuser_makes_an_administrator() -> None:
    from maillage.accounts.models import Role, User

    call_command(
        "createsuperuser", "--noinput", "--username", "chef", "--email", "chef@example.org"
    )
    assert User.objects.get(username="chef").role == Role.ADMIN
