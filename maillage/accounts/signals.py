"""Sign-ins, sign-outs, failures and lockouts go to the audit trail."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from maillage.audit.actions import Event, record
from maillage.audit.models import Action, AuditEntry, Outcome

# Session keys of the idle and absolute timeouts (maillage.accounts.middleware).
SIGNED_IN_AT = "maillage_signed_in_at"
LAST_SEEN = "maillage_last_seen"


@receiver(user_logged_in)
def _logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SIGNED_IN_AT] = now
        request.session[LAST_SEEN] = now
    record(user, Event(action=Action.LOGIN))


@receiver(user_logged_out)
def _logged_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(user, Event(action=Action.LOGOUT))


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    from maillage.accounts.models import User
    from maillage.accounts.noise import anonymous_failure

    # The user name typed is kept; the password never is.
    username = str(credentials.get("username", ""))[:150]
    if not User.objects.filter(username=username).exists():
        # Nobody to name: anonymous noise, audited within limits.
        anonymous_failure("login.unknown_user", Action.LOGIN_FAILED, {"username": username})
        return
    record(
        None,
        Event(action=Action.LOGIN_FAILED, outcome=Outcome.DENIED, detail={"username": username}),
    )


@receiver(user_locked_out)
def _locked_out(sender: Any, username: str = "", **kwargs: Any) -> None:
    """django-axes locked an account: one entry (and one notice) per lockout, not per attempt."""
    from maillage.accounts.administration import record_lockout
    from maillage.accounts.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        return
    since = timezone.now() - dt.timedelta(hours=float(settings.AXES_COOLOFF_TIME))
    if AuditEntry.objects.filter(actor=user, action=Action.ACCOUNT_LOCKED, at__gte=since).exists():
        return
    record_lockout(user)
