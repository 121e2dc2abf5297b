"""Writes on accounts: API tokens and second-factor enrolment."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from maillage.accounts.models import ApiToken, User
from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome

TOKEN_PREFIX = "mlg_"  # noqa: S105 (a marker, not a secret)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_api_token(user: User, label: str = "") -> str:
    """Make a bearer token for ``user``; return it once, keep only its hash."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, token_hash=_digest(raw), prefix=raw[:12], label=label)
    record(user, Event(action=Action.TOKEN_CREATED, detail={"prefix": raw[:12], "label": label}))
    return raw


def user_for_token(raw: str) -> User | None:
    """The active user holding this token, or None (and an audit entry)."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_digest(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        record(None, Event(action=Action.TOKEN_REJECTED, outcome=Outcome.DENIED))
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


def pending_totp_device(user: User) -> TOTPDevice:
    """The unconfirmed device a user is enrolling, made on first call."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Maillage", confirmed=False)
    return device


def seconds_to_wait(device: TOTPDevice) -> int:
    """After failures, django-otp refuses codes for a growing delay; how long is left."""
    allowed, data = device.verify_is_allowed()
    if allowed or not data or "locked_until" not in data:
        return 0
    return max(1, int((data["locked_until"] - timezone.now()).total_seconds()) + 1)


def confirm_totp_device(user: User, device: TOTPDevice, token: str) -> bool:
    """Confirm enrolment when the code from the app is right."""
    if not device.verify_token(token):
        record(user, Event(action=Action.OTP_FAILED, outcome=Outcome.DENIED))
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    record(user, Event(action=Action.OTP_ENROLLED))
    return True


def confirmed_totp_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def check_totp(user: User, device: TOTPDevice, token: str) -> bool:
    if device.verify_token(token):
        return True
    record(user, Event(action=Action.OTP_FAILED, outcome=Outcome.DENIED))
    return False
