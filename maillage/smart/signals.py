"""Every token the toolkit issues leaves an entry on the trail of the account it acts as."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from oauth2_provider.models import AccessToken
from oauth2_provider.signals import app_authorized

from maillage.audit.actions import Event, record


@receiver(app_authorized)
def audit_token_issued(sender: Any, request: Any, token: AccessToken, **kwargs: Any) -> None:
    from maillage.audit.models import Action
    from maillage.smart.tokens import acting_user

    record(
        acting_user(token),
        Event(
            action=Action.TOKEN_CREATED,
            detail={
                "client_id": token.application.client_id if token.application else "",
                "scope": token.scope,
                "expires_at": token.expires.isoformat(),
            },
        ),
    )
