"""Who may open the socket, tried as an attacker would: every refusal is a closed handshake."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from channels.db import database_sync_to_async
from django.contrib.sessions.models import Session
from django.utils import timezone

from maillage.accounts.actions import create_api_token, revoke_api_token
from maillage.accounts.models import ApiToken
from maillage.accounts.signals import LAST_SEEN
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.realtime.tests.conftest import hello, run, signed_in_session, socket

pytestmark = pytest.mark.django_db(transaction=True)


def _opens(communicator) -> bool:
    async def scenario() -> bool:
        connected, _code = await communicator.connect(timeout=10)
        if connected:
            await hello(communicator)
            await communicator.disconnect(timeout=10)
        return bool(connected)

    return run(scenario)


def test_it_opens_for_a_professional_whose_second_factor_was_checked(personas) -> None:
    session = signed_in_session(personas.treating_doctor.user)
    assert _opens(socket(session=session))


def test_it_opens_for_a_patient_who_has_no_second_factor(personas) -> None:
    session = signed_in_session(personas.patient_user, second_factor=False)
    assert _opens(socket(session=session))


def test_it_refuses_a_professional_who_stopped_at_the_second_factor(personas) -> None:
    session = signed_in_session(personas.treating_doctor.user, second_factor=False)
    assert not _opens(socket(session=session))


def test_it_refuses_a_device_of_someone_else(personas) -> None:
    """The session names the nurse's verified device, not the doctor's."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    session_key = signed_in_session(personas.treating_doctor.user, second_factor=False)
    nurse_device = TOTPDevice.objects.create(
        user=personas.nurse.user, name="Maillage", confirmed=True
    )
    session = Session.objects.get(session_key=session_key)
    data = session.get_decoded()
    data[DEVICE_ID_SESSION_KEY] = nurse_device.persistent_id
    Session.objects.filter(pk=session_key).update(session_data=Session.objects.encode(data))
    assert not _opens(socket(session=session_key))


def test_it_refuses_anonymous_and_made_up_sessions(personas) -> None:
    assert not _opens(socket())
    assert not _opens(socket(session="x" * 32))
    assert not _opens(socket(session="y" * 5000))


def test_it_refuses_a_session_idle_too_long(personas, settings) -> None:
    session_key = signed_in_session(personas.treating_doctor.user)
    session = Session.objects.get(session_key=session_key)
    data = session.get_decoded()
    data[LAST_SEEN] = int(time.time()) - settings.MAILLAGE_IDLE_TIMEOUT_MINUTES * 60 - 5
    Session.objects.filter(pk=session_key).update(session_data=Session.objects.encode(data))
    assert not _opens(socket(session=session_key))


def test_a_page_of_another_site_cannot_use_the_cookie(personas) -> None:
    """Cross-site WebSocket hijacking: the browser sends the cookie, the Origin gives it away."""
    session = signed_in_session(personas.treating_doctor.user)
    assert not _opens(socket(session=session, origin="https://attaquant.example"))
    assert not _opens(socket(session=session, origin=None))


def test_an_api_client_opens_with_a_live_token(personas) -> None:
    token = create_api_token(personas.treating_doctor.user)
    assert _opens(socket(token=token, origin=None))


def test_an_expired_token_is_refused_and_audited_on_its_owner(personas) -> None:
    user = personas.treating_doctor.user
    token = create_api_token(user)
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert not _opens(socket(token=token, origin=None))
    entry = AuditEntry.objects.filter(action=Action.TOKEN_EXPIRED).get()
    assert entry.actor == user
    assert entry.outcome == Outcome.DENIED


def test_a_revoked_token_is_refused_and_audited(personas) -> None:
    user = personas.treating_doctor.user
    token = create_api_token(user)
    revoke_api_token(ApiToken.objects.get(), by=user)
    assert not _opens(socket(token=token, origin=None))
    entry = AuditEntry.objects.filter(action=Action.TOKEN_REJECTED, actor=user).get()
    assert entry.detail["rule"] == "token_revoked_or_account_inactive"


def test_an_unknown_token_is_refused_as_anonymous_noise(personas) -> None:
    assert not _opens(socket(token="mlg_" + "z" * 40, origin=None))
    assert not _opens(socket(token="", origin=None))
    entry = AuditEntry.objects.filter(action=Action.TOKEN_REJECTED).get()
    assert entry.actor is None and entry.patient is None


def test_a_bad_token_never_falls_back_to_the_cookie(personas) -> None:
    session = signed_in_session(personas.treating_doctor.user)
    assert not _opens(socket(session=session, token="mlg_forged"))


def test_signing_out_closes_an_open_socket(personas) -> None:
    user = personas.treating_doctor.user
    session_key = signed_in_session(user)
    communicator = socket(session=session_key)

    async def scenario() -> int:
        connected, _code = await communicator.connect(timeout=10)
        assert connected
        await hello(communicator)
        await database_sync_to_async(Session.objects.filter(pk=session_key).delete)()
        while True:
            output = await communicator.receive_output(timeout=10)
            if output["type"] == "websocket.close":
                await communicator.disconnect(code=int(output["code"]), timeout=10)
                return int(output["code"])

    assert run(scenario) == 4401


def test_revoking_the_token_closes_an_open_socket(personas) -> None:
    user = personas.treating_doctor.user
    token = create_api_token(user)
    communicator = socket(token=token, origin=None)

    async def scenario() -> int:
        connected, _code = await communicator.connect(timeout=10)
        assert connected
        await hello(communicator)
        await database_sync_to_async(lambda: revoke_api_token(ApiToken.objects.get(), by=user))()
        while True:
            output = await communicator.receive_output(timeout=10)
            if output["type"] == "websocket.close":
                await communicator.disconnect(code=int(output["code"]), timeout=10)
                return int(output["code"])

    assert run(scenario) == 4401
    assert AuditEntry.objects.filter(
        action=Action.TOKEN_REJECTED, actor=user, detail__rule="token_revoked_or_account_inactive"
    ).exists()
