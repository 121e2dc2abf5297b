"""An OAuth access token presented to the API: whose it is and what it grants."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from maillage.accounts.noise import anonymous_failure
from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome

if TYPE_CHECKING:
    from maillage.accounts.models import User


@dataclass(frozen=True)
class AppToken:
    user: User
    scopes: tuple[str, ...]
    client_id: str


def _service_user(token: AccessToken) -> User | None:
    """The account a system client acts as (client credentials: no user on the token)."""
    from maillage.smart.models import SystemClient

    binding = (
        SystemClient.objects.select_related("user", "user__professional")
        .filter(application_id=token.application_id)
        .first()
    )
    return binding.user if binding is not None else None


def acting_user(token: AccessToken) -> User | None:
    """The token's user, or the account a system client's token acts as."""
    return token.user if token.user_id is not None else _service_user(token)


def app_token(raw: str) -> AppToken | None:
    """The live token's user and scopes, or None (and an audit entry)."""
    checksum = hashlib.sha256(raw.encode()).hexdigest()
    token = (
        AccessToken.objects.select_related("application", "user", "user__professional")
        .filter(token_checksum=checksum)
        .first()
    )
    if token is None or token.application is None:
        # Revoked tokens are deleted by the toolkit: unknown from then on.
        anonymous_failure("token.unknown", Action.TOKEN_REJECTED)
        return None
    user = acting_user(token)
    detail = {"client_id": token.application.client_id}
    if user is None or not user.is_active:
        record(
            user,
            Event(
                action=Action.TOKEN_REJECTED,
                outcome=Outcome.DENIED,
                detail={**detail, "rule": "token_revoked_or_account_inactive"},
            ),
        )
        return None
    if token.expires <= timezone.now():
        record(
            user,
            Event(
                action=Action.TOKEN_EXPIRED,
                outcome=Outcome.DENIED,
                detail={**detail, "rule": "token_expired"},
            ),
        )
        return None
    return AppToken(user, tuple(token.scope.split()), token.application.client_id)


@dataclass(frozen=True)
class HeldToken:
    """A token an app presents for revocation, as it was before."""

    kind: str  # "access_token" or "refresh_token"
    pk: int
    user: User | None
    client_id: str

    def gone(self) -> bool:
        if self.kind == "access_token":
            return not AccessToken.objects.filter(pk=self.pk).exists()
        return RefreshToken.objects.filter(pk=self.pk, revoked__isnull=False).exists()


def held_token(raw: str) -> HeldToken | None:
    """The live token with this value, to audit its revocation (never trusted for access)."""
    if not raw or len(raw) > 255:
        return None
    checksum = hashlib.sha256(raw.encode()).hexdigest()
    access = (
        AccessToken.objects.select_related("application", "user")
        .filter(token_checksum=checksum)
        .first()
    )
    if access is not None and access.application is not None:
        return HeldToken(
            "access_token", access.pk, acting_user(access), access.application.client_id
        )
    refresh = (
        RefreshToken.objects.select_related("application", "user")
        .filter(token_checksum=checksum, revoked__isnull=True)
        .first()
    )
    if refresh is not None and refresh.application is not None:
        return HeldToken("refresh_token", refresh.pk, refresh.user, refresh.application.client_id)
    return None
