"""Sign-ins and sign-outs go to the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome


@receiver(user_logged_in)
def _logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    record(user, Event(action=Action.LOGIN))


@receiver(user_logged_out)
def _logged_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(user, Event(action=Action.LOGOUT))


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    # The user name typed is kept; the password never is.
    record(
        None,
        Event(
            action=Action.LOGIN_FAILED,
            outcome=Outcome.DENIED,
            detail={"username": str(credentials.get("username", ""))[:150]},
        ),
    )
