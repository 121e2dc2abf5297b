"""What an administrator may change on accounts, and the trail it leaves.

Administrators administer: they manage accounts, structures and the
habilitation matrix, and never become clinicians. The rules, checked here
(the admin's forms and actions only call these functions):

- an administrator never changes his own role, structures, staff flags or state;
- a clinical role (any role that reads patient data) is never granted by one
  administrator alone: it becomes a pending ``RoleGrant`` that another
  administrator approves, and only then is applied;
- a staff account never holds a clinical role (one person, two accounts);
- an administrator never sets a password: a reset link goes to the user;
- every change is a chained audit entry (listed in the administration
  journal), and the person concerned is told by email, without health data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from maillage.accounts.actions import notify_later
from maillage.accounts.models import CLINICAL_ROLES, GrantState, Role, RoleGrant, User
from maillage.accounts.notify import absolute_url
from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome

# Every action the administration journal lists.
JOURNAL_ACTIONS = frozenset(
    {
        Action.ROLE_CHANGED,
        Action.ROLE_GRANT_REQUESTED,
        Action.ROLE_GRANT_DECIDED,
        Action.STRUCTURES_CHANGED,
        Action.HABILITATION_CHANGED,
        Action.ACCOUNT_CHANGED,
        Action.ACCOUNT_CREATED,
        Action.ACCOUNT_ACTIVATED,
        Action.ACCOUNT_DEACTIVATED,
        Action.ACCOUNT_LOCKED,
        Action.ACCOUNT_UNLOCKED,
        Action.PASSWORD_RESET_SENT,
        Action.OTP_ENROLLED,
        Action.OTP_REMOVED,
        Action.TOKEN_CREATED,
        Action.TOKEN_REVOKED,
        Action.TOKEN_EXPIRED,
    }
)


class AdministrationRefused(Exception):
    """A change the rules above refuse; the message is shown to the administrator."""

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule


def _about(user: User) -> dict[str, str]:
    return {"user": str(user.uuid), "username": user.username}


def _refuse(by: User, action: str, user: User, rule: str, message: str, **detail: Any) -> None:
    """Audit the refusal, then raise it (the caller's transaction keeps the entry)."""
    record(
        by,
        Event(
            action=action, outcome=Outcome.DENIED, detail={**_about(user), "rule": rule, **detail}
        ),
    )
    raise AdministrationRefused(message, rule)


def role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else _("no role yet")


def check_self(by: User, user: User, what: str) -> None:
    """An administrator changes nothing of his own standing."""
    if by.pk == user.pk:
        _refuse(
            by,
            Action.ACCOUNT_CHANGED,
            user,
            "self_administration",
            _("You cannot change your own role, structures, staff status or account state."),
            field=what,
        )


def check_staff_not_clinical(by: User, user: User, role: str, is_staff: bool) -> None:
    if is_staff and role in CLINICAL_ROLES:
        _refuse(
            by,
            Action.ACCOUNT_CHANGED,
            user,
            "staff_not_clinical",
            _(
                "An administration account cannot hold a clinical role: "
                "the person needs a separate account."
            ),
            role=role,
        )


@dataclass(frozen=True)
class RoleChange:
    applied: bool  # False: a grant awaits a second administrator
    grant: RoleGrant | None = None


def change_role(by: User, user: User, role: str) -> RoleChange:
    """Apply a non-clinical role at once; ask a second administrator for a clinical one."""
    check_self(by, user, "role")
    check_staff_not_clinical(by, user, role, user.is_staff)
    if role in CLINICAL_ROLES:
        grant = RoleGrant.objects.create(user=user, role=role, requested_by=by)
        record(
            by,
            Event(
                action=Action.ROLE_GRANT_REQUESTED,
                detail={**_about(user), "role": role, "grant": str(grant.uuid)},
            ),
        )
        return RoleChange(applied=False, grant=grant)
    _apply_role(by, user, role)
    return RoleChange(applied=True)


def _apply_role(by: User, user: User, role: str) -> None:
    before = user.role
    User.objects.filter(pk=user.pk).update(role=role)
    user.role = role
    record(
        by, Event(action=Action.ROLE_CHANGED, detail={**_about(user), "from": before, "to": role})
    )
    notify_later(
        user,
        _("Maillage: your role was changed"),
        [
            _("Your role on Maillage is now: %(role)s (before: %(before)s).")
            % {"role": role_label(role), "before": role_label(before)},
            _("If you did not expect this change, tell your administrator."),
        ],
        "/",
    )


def decide_grant(by: User, grant: RoleGrant, approve: bool) -> None:
    """A second administrator approves (the role is applied) or refuses a pending grant."""
    user = grant.user
    if by.pk in {grant.requested_by_id, user.pk}:
        _refuse(
            by,
            Action.ROLE_GRANT_DECIDED,
            user,
            "second_administrator",
            _("A grant is decided by another administrator than the one who asked for it."),
            role=grant.role,
            grant=str(grant.uuid),
        )
    if approve:
        check_staff_not_clinical(by, user, grant.role, user.is_staff)
    detail = {**_about(user), "role": grant.role, "grant": str(grant.uuid)}
    state = GrantState.APPROVED if approve else GrantState.REFUSED
    with transaction.atomic():
        # The conditional UPDATE is the claim: a grant is decided once.
        claimed = RoleGrant.objects.filter(pk=grant.pk, state=GrantState.PENDING).update(
            state=state, decided_by=by, decided_at=timezone.now()
        )
        if not claimed:
            record(
                by,
                Event(
                    action=Action.ROLE_GRANT_DECIDED,
                    outcome=Outcome.FAILED,
                    detail={**detail, "failure": "already_decided"},
                ),
            )
            raise AdministrationRefused(_("This grant was already decided."), "already_decided")
        record(by, Event(action=Action.ROLE_GRANT_DECIDED, detail={**detail, "decision": state}))
        if approve:
            _apply_role(by, user, grant.role)


def change_structures(by: User, user: User, before: Iterable[Any], after: Iterable[Any]) -> None:
    """Record a change of the structures an account works for (already saved by the form)."""
    old = {s.pk: str(s) for s in before}
    new = {s.pk: str(s) for s in after}
    if old.keys() == new.keys():
        return
    added = sorted(v for k, v in new.items() if k not in old)
    removed = sorted(v for k, v in old.items() if k not in new)
    record(
        by,
        Event(
            action=Action.STRUCTURES_CHANGED,
            detail={**_about(user), "added": added, "removed": removed},
        ),
    )
    notify_later(
        user,
        _("Maillage: your structures were changed"),
        [
            _("The structures your account works for were changed by an administrator."),
            _("Added: %(added)s. Removed: %(removed)s.")
            % {"added": ", ".join(added) or "—", "removed": ", ".join(removed) or "—"},
        ],
        "/",
    )


def change_state(by: User, user: User, active: bool) -> None:
    """Record that an account was activated or deactivated (already saved by the form)."""
    action = Action.ACCOUNT_ACTIVATED if active else Action.ACCOUNT_DEACTIVATED
    record(by, Event(action=action, detail=_about(user)))
    notify_later(
        user,
        _("Maillage: your account was activated")
        if active
        else _("Maillage: your account was deactivated"),
        [_("An administrator changed the state of your account.")],
        "/",
    )


def record_account_change(
    by: User, user: User, fields: Mapping[str, tuple[object, object]], created: bool = False
) -> None:
    """Other fields (names, email, staff flags): one entry naming the fields, old address told."""
    if not fields and not created:
        return
    action = Action.ACCOUNT_CREATED if created else Action.ACCOUNT_CHANGED
    record(by, Event(action=action, detail={**_about(user), "fields": sorted(fields)}))
    if "email" in fields and not created:
        # The old address hears of it: an email change is the first step of a takeover.
        old_email = str(fields["email"][0] or "")
        if old_email:
            previous = User(username=user.username, email=old_email)
            notify_later(
                previous,
                _("Maillage: the email address of your account was changed"),
                [
                    _("An administrator changed the email address of your account."),
                    _("If you did not ask for it, tell your administrator at once."),
                ],
                "/",
            )
    elif fields:
        notify_later(
            user,
            _("Maillage: your account was changed"),
            [
                _("An administrator changed your account (%(fields)s).")
                % {"fields": ", ".join(sorted(fields))}
            ],
            "/",
        )


class _OneUserReset(PasswordResetForm):
    """Django's reset machinery, aimed at one account rather than an email address."""

    def __init__(self, user: User) -> None:
        super().__init__({"email": user.email})
        self.user = user
        self.cleaned_data = {"email": user.email}

    def get_users(self, email: str) -> Iterable[User]:
        # New accounts have no usable password yet: the link is how they get one.
        return [self.user] if self.user.is_active and self.user.email else []


def send_password_reset(by: User, user: User) -> bool:
    """Mail the user a link to choose a password; the administrator never sets one."""
    if not user.email or not user.is_active:
        record(
            by,
            Event(
                action=Action.PASSWORD_RESET_SENT,
                outcome=Outcome.FAILED,
                detail={**_about(user), "failure": "no_email" if not user.email else "inactive"},
            ),
        )
        return False
    record(by, Event(action=Action.PASSWORD_RESET_SENT, detail=_about(user)))
    form = _OneUserReset(user)

    def send() -> None:
        form.save(
            domain_override="maillage",
            subject_template_name="accounts/password_reset_subject.txt",
            email_template_name="accounts/password_reset_email.txt",
            from_email=settings.DEFAULT_FROM_EMAIL,
            extra_email_context={"base_url": absolute_url("")},
        )

    transaction.on_commit(send)
    return True


def remove_second_factor(by: User, device: TOTPDevice) -> None:
    """Delete an authenticator; the user enrols a new one at the next sign-in."""
    user: User = device.user
    check_self(by, user, "second_factor")
    device.delete()
    record(by, Event(action=Action.OTP_REMOVED, detail=_about(user)))
    notify_later(
        user,
        _("Maillage: your second factor was removed"),
        [
            _("An administrator removed the authenticator app of your account."),
            _(
                "You will set up a new one at your next sign-in. "
                "If you did not ask for it, tell your administrator at once."
            ),
        ],
        "/",
    )


def record_lockout(user: User) -> None:
    record(user, Event(action=Action.ACCOUNT_LOCKED, outcome=Outcome.DENIED, detail=_about(user)))
    notify_later(
        user,
        _("Maillage: your account is locked for a while"),
        [
            _(
                "Several wrong passwords were typed for your account; "
                "sign-in is paused for a while."
            ),
            _("If it was not you, tell your administrator."),
        ],
        "/comptes/connexion/",
    )


def record_unlock(by: User, user: User) -> None:
    record(by, Event(action=Action.ACCOUNT_UNLOCKED, detail=_about(user)))
    notify_later(
        user,
        _("Maillage: your account was unlocked"),
        [_("An administrator unlocked your account; you may sign in again.")],
        "/comptes/connexion/",
    )


def record_habilitation_change(
    by: User, rule: Any, before: tuple[bool, bool] | None, after: tuple[bool, bool]
) -> None:
    """A cell of the habilitation matrix changed; the other administrators are told.

    The matrix concerns a whole role rather than one person, so the notice
    goes to the administrators who did not make the change.
    """
    if before == after:
        return
    record(
        by,
        Event(
            action=Action.HABILITATION_CHANGED,
            detail={
                "role": rule.role,
                "document_type": rule.document_type,
                "from": {"read": before[0], "write": before[1]} if before else None,
                "to": {"read": after[0], "write": after[1]},
            },
        ),
    )
    others = User.objects.filter(is_staff=True, is_active=True).exclude(pk=by.pk).exclude(email="")
    for other in others:
        notify_later(
            other,
            _("Maillage: the habilitation matrix was changed"),
            [
                _("%(name)s changed what the role %(role)s may read or write (%(type)s).")
                % {
                    "name": by.display_name,
                    "role": role_label(rule.role),
                    "type": rule.document_type,
                }
            ],
            "/admin/accounts/administrationentry/",
        )
