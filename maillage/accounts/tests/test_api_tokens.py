"""Tokens expire, their owner lists and revokes them, and bogus ones do not flood the trail."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db.models import F
from django.test import Client
from django.utils import timezone

from maillage.accounts.actions import create_api_token, issue_api_token
from maillage.accounts.models import ApiToken, NoiseWindow
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import BASE
from maillage.front.tests.test_home import signed_in
from maillage.testing.factories import page_text

pytestmark = pytest.mark.django_db


def test_create_api_token_prints_the_expiry(personas, settings) -> None:
    settings.MAILLAGE_API_TOKEN_DAYS = 90
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "medecin.traitant", stdout=out, stderr=err)
    token = ApiToken.objects.get()
    expected = timezone.localtime(token.expires_at).date()
    assert out.getvalue().strip().startswith("mlg_")
    assert f"Expires on {expected:%Y-%m-%d}" in err.getvalue()
    assert abs(token.expires_at - timezone.now() - dt.timedelta(days=90)) < dt.timedelta(minutes=1)


def test_an_expired_token_is_refused_and_audited(
    personas, client, django_capture_on_commit_callbacks
) -> None:
    doctor = personas.treating_doctor.user
    doctor.email = "morel@maillage.example"
    doctor.save(update_fields=["email"])
    issued = issue_api_token(doctor, "logiciel", days=1)
    ApiToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(
            f"{BASE}/Patient/{personas.patient.uuid}", HTTP_AUTHORIZATION=f"Bearer {issued.raw}"
        )
        client.get(f"{BASE}/Practitioner", HTTP_AUTHORIZATION=f"Bearer {issued.raw}")

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    expired = AuditEntry.objects.filter(action=Action.TOKEN_EXPIRED)
    assert expired.count() == 2
    assert {e.actor for e in expired} == {doctor}
    assert all(e.outcome == Outcome.DENIED and e.channel == "fhir" for e in expired)
    assert not AuditEntry.objects.filter(action=Action.PATIENT_READ).exists()
    # Told once, not on every attempt.
    assert [m.to for m in mail.outbox] == [["morel@maillage.example"]]


def test_the_owner_revokes_a_token_from_his_page(personas) -> None:
    doctor = personas.treating_doctor.user
    raw = create_api_token(doctor, "logiciel du cabinet")
    other = create_api_token(personas.nurse.user, "tournée")
    client = signed_in(doctor)

    page = client.get("/comptes/jetons/")
    assert page.status_code == 200
    text = page_text(page)
    assert "Mes jetons d'API" in text and "logiciel du cabinet" in text
    assert "tournée" not in text and raw not in text

    mine = ApiToken.objects.get(user=doctor)
    theirs = ApiToken.objects.get(user=personas.nurse.user)
    # Someone else's token: not found, and untouched.
    assert client.post(f"/comptes/jetons/{theirs.uuid}/revoquer/").status_code == 404
    response = client.post(f"/comptes/jetons/{mine.uuid}/revoquer/")
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None
    assert AuditEntry.objects.filter(action=Action.TOKEN_REVOKED, actor=doctor).count() == 1
    api = Client()
    assert api.get(f"{BASE}/Practitioner", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert api.get(f"{BASE}/Practitioner", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 200


def test_a_flood_of_bogus_tokens_leaves_a_bounded_trail(personas, settings) -> None:
    settings.MAILLAGE_NOISE_AUDITED_PER_WINDOW = 5
    settings.MAILLAGE_NOISE_WINDOW_SECONDS = 3600
    client = Client(REMOTE_ADDR="203.0.113.7")
    before = AuditEntry.objects.order_by("seq").last()
    start = before.seq if before else 0
    flood = 300  # five audited, the rest counted: 300 proves it as well as 1000 did
    for i in range(flood):
        response = client.get(f"{BASE}/Practitioner", HTTP_AUTHORIZATION=f"Bearer mlg_bogus{i}")
        assert response.status_code == 401
    windows = NoiseWindow.objects.filter(kind="token.unknown", source="203.0.113.7")
    # One window, or two if the run crossed an hour boundary.
    assert 1 <= windows.count() <= 2
    assert sum(w.count for w in windows) == flood
    new = AuditEntry.objects.filter(seq__gt=start)
    assert new.filter(action=Action.TOKEN_REJECTED).count() == 5 * windows.count()
    assert new.count() <= 6 * windows.count()

    # Once the window has closed, the next failure writes one summary with the count.
    windows.update(window_start=F("window_start") - dt.timedelta(hours=3))
    Client(REMOTE_ADDR="198.51.100.1").get(
        f"{BASE}/Practitioner", HTTP_AUTHORIZATION="Bearer mlg_other"
    )
    summaries = AuditEntry.objects.filter(action=Action.NOISE_SUMMARY, ip="203.0.113.7")
    assert summaries.count() == windows.count()
    assert sum(e.detail["count"] for e in summaries) == flood
    assert sum(e.detail["unaudited"] for e in summaries) == flood - 5 * windows.count()
    assert new.count() <= 7 * windows.count() + 1
    assert not new.exclude(patient=None).exists()


def test_unknown_user_names_are_noise_but_known_ones_are_not(personas, settings) -> None:
    settings.MAILLAGE_NOISE_AUDITED_PER_WINDOW = 3
    client = Client(REMOTE_ADDR="203.0.113.8")
    for i in range(30):
        client.post("/comptes/connexion/", {"username": f"inconnu{i}", "password": "x"})
    assert AuditEntry.objects.filter(action=Action.LOGIN_FAILED).count() == 3
    Client(REMOTE_ADDR="203.0.113.9").post(
        "/comptes/connexion/", {"username": "secretaire", "password": "x"}
    )
    assert AuditEntry.objects.filter(
        action=Action.LOGIN_FAILED, detail__username="secretaire"
    ).exists()


def test_close_noise_windows_writes_the_summaries(personas, settings) -> None:
    settings.MAILLAGE_NOISE_AUDITED_PER_WINDOW = 2
    client = Client(REMOTE_ADDR="203.0.113.10")
    for i in range(7):
        client.get(f"{BASE}/Practitioner", HTTP_AUTHORIZATION=f"Bearer mlg_x{i}")
    NoiseWindow.objects.update(window_start=timezone.now() - dt.timedelta(hours=1))
    out = StringIO()
    call_command("close_noise_windows", stdout=out)
    assert out.getvalue().startswith("1 ")
    assert AuditEntry.objects.get(action=Action.NOISE_SUMMARY).detail["unaudited"] == 5
    call_command("close_noise_windows", stdout=StringIO())
    assert AuditEntry.objects.filter(action=Action.NOISE_SUMMARY).count() == 1
