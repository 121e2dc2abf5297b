"""Builders for the SMART tests: registered apps and PKCE pairs (tests only)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass

from oauth2_provider.models import Application

from maillage.accounts.models import User

CALLBACK = "https://app.example/callback"


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str


def pkce() -> Pkce:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return Pkce(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode())


def public_app(name: str = "Carnet de santé", redirect_uri: str = CALLBACK) -> Application:
    """A user-facing app, as an administrator registers it (public client, PKCE)."""
    return Application.objects.create(
        name=name,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uri,
        algorithm=Application.RS256_ALGORITHM,
    )


@dataclass(frozen=True)
class SystemApp:
    application: Application
    secret: str


def system_app(user: User, name: str = "Entrepôt régional") -> SystemApp:
    """A confidential client of the client-credentials grant, acting as ``user``."""
    from maillage.smart.models import SystemClient

    secret = secrets.token_urlsafe(32)
    application = Application.objects.create(
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
    )
    SystemClient.objects.create(application=application, user=user)
    return SystemApp(application, secret)
