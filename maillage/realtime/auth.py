"""Who is on the socket: the session cookie (second factor checked) or a bearer API token.

The rules are the HTTP ones, applied to the WebSocket handshake: a session
counts only while it is alive (idle and absolute limits of
``accounts.middleware.session_expired``) and, for a professional, once the
second factor was verified in it (the device id django-otp keeps in the
session, bound to the user and confirmed), except demo accounts in demo
mode; a token counts only while it is neither expired nor revoked
(``accounts.actions.user_for_token``, which audits the refusals). The
consumer asks ``still_valid`` again at every heartbeat, so signing out or
revoking the token closes the socket.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Literal

from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from maillage.accounts.actions import user_for_token
from maillage.accounts.middleware import session_expired, skips_second_factor
from maillage.accounts.models import User
from maillage.audit.context import audit_context
from maillage.audit.models import Channel
from maillage.fhir.auth import bearer_token

Scope = dict[str, Any]


@dataclass(frozen=True)
class Credential:
    kind: Literal["session", "token"]
    # The session key, or the raw token (in this process's memory only, never stored).
    key: str = field(repr=False)


def _header(scope: Scope, name: bytes) -> str:
    for header, value in scope.get("headers", []):
        if header == name:
            return bytes(value).decode("latin1")
    return ""


def _cookie(scope: Scope, name: str) -> str:
    for part in _header(scope, b"cookie").split(";"):
        key, _sep, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


def client_ip(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


def _session(key: str) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    store: SessionBase = engine.SessionStore(key)
    return store


def second_factor_verified(session: SessionBase, user: User) -> bool:
    """What django-otp's middleware decides: the session's device is this user's, confirmed."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    if not isinstance(persistent_id, str) or not persistent_id:
        return False
    if persistent_id.count(".") > 1:  # django-otp's own normalisation of old ids
        parts = persistent_id.split(".")
        persistent_id = ".".join((parts[-3], parts[-1]))
    device = Device.from_persistent_id(persistent_id)
    return device is not None and device.user_id == user.pk and bool(device.confirmed)


def session_user(key: str) -> User | None:
    """The user of a live session that the HTTP middleware would let through, or None."""
    if not key or len(key) > 64:
        return None
    session = _session(key)
    if not session.exists(key) or session_expired(session, time.time()):
        return None
    request = HttpRequest()
    request.session = session
    user = get_user(request)
    if not isinstance(user, User) or not user.is_active:
        return None
    if (
        user.needs_second_factor
        and not second_factor_verified(session, user)
        and not skips_second_factor(user)
    ):
        return None
    return user


def authenticate(scope: Scope) -> tuple[User, Credential] | None:
    """A bearer token when one is presented (never falling back to the cookie), else the session."""
    authorization = _header(scope, b"authorization")
    if authorization.strip():
        raw = bearer_token(authorization)
        with audit_context(Channel.WEB, client_ip(scope)):
            user = user_for_token(raw) if raw else None
        if user is None or raw is None:
            return None
        return user, Credential("token", raw)
    key = _cookie(scope, settings.SESSION_COOKIE_NAME)
    user = session_user(key)
    return (user, Credential("session", key)) if user is not None else None


def still_valid(user: User, credential: Credential, ip: str | None) -> bool:
    """Asked at each heartbeat: the socket closes once its credential no longer opens a page."""
    if credential.kind == "token":
        # The same check as at the handshake: an expired or revoked token is audited on its owner.
        with audit_context(Channel.WEB, ip):
            holder = user_for_token(credential.key)
        return holder is not None and holder.pk == user.pk
    current = session_user(credential.key)
    return current is not None and current.pk == user.pk


class RealtimeAuthMiddleware:
    """Puts ``user`` and ``realtime_credential`` in the scope, or nothing (the consumer refuses)."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        scope = dict(scope)  # never change the server's own scope
        found = await database_sync_to_async(authenticate)(scope)
        if found is not None:
            scope["user"], scope["realtime_credential"] = found
        return await self.application(scope, receive, send)


class OriginOrBearer:
    """Browsers send an Origin, which must be one of ALLOWED_HOSTS (no cross-site hijacking
    of the session cookie). A client presenting a bearer token and no Origin is not a
    browser page (a page cannot set that header on a WebSocket) and may connect."""

    def __init__(self, application: Any) -> None:
        self.application = application
        self._validator: tuple[tuple[str, ...], Any] | None = None

    def _validated(self) -> Any:
        # Channels' validator copies ALLOWED_HOSTS when it is made: made again when
        # they change (a test's server on another address), never stale.
        hosts = tuple(settings.ALLOWED_HOSTS)
        if self._validator is None or self._validator[0] != hosts:
            self._validator = (hosts, AllowedHostsOriginValidator(self.application))
        return self._validator[1]

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        if not _header(scope, b"origin") and _header(scope, b"authorization").strip():
            return await self.application(scope, receive, send)
        return await self._validated()(scope, receive, send)
