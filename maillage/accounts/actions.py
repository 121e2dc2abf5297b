"""Writes on accounts: API tokens and second-factor enrolment."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from maillage.accounts.models import ApiToken, User
from maillage.accounts.noise import anonymous_failure
from maillage.accounts.notify import send_notice
from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome
from maillage.db.statements import Statement

TOKEN_PREFIX = "mlg_"  # noqa: S105 (a marker, not a secret)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def notify_later(user: User, subject: str, lines: list[str], path: str) -> None:
    """Email the person once the change is committed (never for a change rolled back)."""
    transaction.on_commit(lambda: send_notice(user, subject, lines, path))


def _token_detail(token: ApiToken) -> dict[str, str]:
    return {"prefix": token.prefix, "label": token.label, "user": str(token.user.uuid)}


@dataclass(frozen=True)
class IssuedToken:
    raw: str  # shown once, never stored
    token: ApiToken


def issue_api_token(user: User, label: str = "", days: int | None = None) -> IssuedToken:
    """Make a bearer token for ``user`` valid ``days`` days; only its hash is kept."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    lifetime = dt.timedelta(days=days if days is not None else settings.MAILLAGE_API_TOKEN_DAYS)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            token_hash=_digest(raw),
            prefix=raw[:12],
            label=label,
            expires_at=timezone.now() + lifetime,
        )
        record(
            user,
            Event(
                action=Action.TOKEN_CREATED,
                detail={**_token_detail(token), "expires_at": token.expires_at.isoformat()},
            ),
        )
        notify_later(
            user,
            _("Maillage: a new API token"),
            [
                _("An API token (%(prefix)s…) was made for your account; it expires on %(date)s.")
                % {"prefix": token.prefix, "date": formats.date_format(token.expires_at)},
                _("If you did not ask for it, revoke it and tell your administrator."),
            ],
            reverse("accounts:tokens"),
        )
    return IssuedToken(raw, token)


def create_api_token(user: User, label: str = "", days: int | None = None) -> str:
    """Make a bearer token for ``user``; return it once, keep only its hash."""
    return issue_api_token(user, label, days).raw


def _expired(token: ApiToken) -> None:
    """Audit the use of an expired token; tell its owner once."""
    record(
        token.user,
        Event(
            action=Action.TOKEN_EXPIRED,
            outcome=Outcome.DENIED,
            detail={**_token_detail(token), "rule": "token_expired"},
        ),
    )
    claimed = ApiToken.objects.filter(pk=token.pk, expiry_noticed_at__isnull=True).update(
        expiry_noticed_at=timezone.now()
    )
    if claimed:
        notify_later(
            token.user,
            _("Maillage: an API token has expired"),
            [
                _("Your API token %(prefix)s… has expired and no longer opens the API.")
                % {"prefix": token.prefix},
                _("Ask your administrator for a new one."),
            ],
            reverse("accounts:tokens"),
        )


# Every API call asks it, so its SQL is compiled once per process
# (maillage.db.statements). The holder's directory entry comes in the same
# query: the policy asks for it on every API call
# (maillage.policy.relations.professional_id_of). The hash is unique: no ORDER BY.
_TOKEN_BY_HASH = Statement(
    ApiToken.objects.select_related("user", "user__professional").order_by(), "token_hash"
)


def user_for_token(raw: str) -> User | None:
    """The active user holding this live token, or None (and an audit entry).

    An unknown token is anonymous noise (rate-limited entries); an expired,
    revoked or disabled account's token is audited on its owner.
    """
    token = _TOKEN_BY_HASH.first(_digest(raw))
    if token is None:
        anonymous_failure("token.unknown", Action.TOKEN_REJECTED)
        return None
    if token.revoked_at is not None or not token.user.is_active:
        record(
            token.user,
            Event(
                action=Action.TOKEN_REJECTED,
                outcome=Outcome.DENIED,
                detail={**_token_detail(token), "rule": "token_revoked_or_account_inactive"},
            ),
        )
        return None
    if token.expires_at <= timezone.now():
        _expired(token)
        return None
    # A write per API call (the database's write lock on SQLite) for a date
    # shown to the minute: written at most once a minute.
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def live_tokens(user: User) -> list[ApiToken]:
    """The owner's tokens that still open the API, soonest to expire first."""
    return list(
        ApiToken.objects.filter(
            user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ).order_by("expires_at")
    )


def revoke_api_token(token: ApiToken, by: User) -> bool:
    """Revoke a live token (by its owner or an administrator); False when nothing changed."""
    with transaction.atomic():
        changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        detail = _token_detail(token)
        if not changed:
            record(
                by,
                Event(
                    action=Action.TOKEN_REVOKED,
                    outcome=Outcome.FAILED,
                    detail={**detail, "failure": "already_revoked"},
                ),
            )
            return False
        record(by, Event(action=Action.TOKEN_REVOKED, detail=detail))
        notify_later(
            token.user,
            _("Maillage: an API token was revoked"),
            [
                _("Your API token %(prefix)s… was revoked by %(name)s; it no longer opens the API.")
                % {"prefix": token.prefix, "name": by.display_name}
            ],
            reverse("accounts:tokens"),
        )
    return True


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
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        record(user, Event(action=Action.OTP_ENROLLED))
        notify_later(
            user,
            _("Maillage: a second factor was set up"),
            [
                _("An authenticator app was set up as the second factor of your account."),
                _("If it was not you, tell your administrator at once."),
            ],
            "/",
        )
    return True


def confirmed_totp_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def check_totp(user: User, device: TOTPDevice, token: str) -> bool:
    if device.verify_token(token):
        return True
    record(user, Event(action=Action.OTP_FAILED, outcome=Outcome.DENIED))
    return False
