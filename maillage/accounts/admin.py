"""Accounts in the admin: administrators administer, they never become clinicians.

The rules live in ``maillage.accounts.administration``; these classes only
call them. No password is ever set here (a reset link goes to the user), no
TOTP key is ever shown (devices are listed and removed), and the audit trail
is visible only through the administration journal, which names no patient.
"""

from __future__ import annotations

import secrets
from typing import Any

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from maillage.accounts import administration
from maillage.accounts.actions import revoke_api_token
from maillage.accounts.models import (
    CLINICAL_ROLES,
    AdministrationEntry,
    ApiToken,
    GrantState,
    RoleGrant,
    User,
)

# Fields of his own account an administrator cannot change.
_OWN_STANDING = ("role", "structures", "is_active", "is_staff", "is_superuser", "groups")
# Fields whose change is recorded as such rather than as a generic account change.
_RECORDED_APART = {"role", "structures", "is_active", "password", "last_login"}


def _by(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


class NewAccountForm(forms.ModelForm):
    """A new account has no password an administrator knows: a link lets the user choose one."""

    class Meta:
        model = User
        fields = ("username", "first_name", "last_name", "email", "role")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active", "is_staff", "is_demo")
    filter_horizontal = ("structures", "groups")
    fieldsets = (
        (None, {"fields": ("username",)}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Maillage"), {"fields": ("role", "structures", "is_demo")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_form = NewAccountForm
    add_fieldsets = ((None, {"fields": ("username", "first_name", "last_name", "email", "role")}),)
    actions = ("send_password_reset",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fixed = ("last_login", "date_joined")
        if obj is not None and obj.pk == request.user.pk:
            return (*fixed, *_OWN_STANDING)
        return fixed

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        # An administrator never sets a password; "send a password reset link" does it.
        raise PermissionDenied

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        base = super().get_form(request, obj, change=change, **kwargs)
        by = _by(request)

        class Checked(base):  # type: ignore[valid-type,misc]
            """Refuses what the rules refuse, with the reason on screen, before saving."""

            def clean(self) -> dict[str, Any]:
                data: dict[str, Any] = super().clean()
                target = self.instance if obj is not None else User(username="")
                role = data.get("role", target.role)
                is_staff = data.get("is_staff", target.is_staff)
                try:
                    if obj is not None and obj.pk == by.pk:
                        forged = [
                            f for f in _OWN_STANDING if f in self.data and f not in self.fields
                        ]
                        if forged:
                            administration.check_self(by, obj, ",".join(forged))
                    if obj is not None:
                        administration.check_staff_not_clinical(by, obj, role, is_staff)
                except administration.AdministrationRefused as refused:
                    raise ValidationError(refused.message) from refused
                return data

        return Checked

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        by = _by(request)
        wanted_role = obj.role
        if not change:
            # A clinical role waits for a second administrator; until then, none.
            obj.role = "" if wanted_role in CLINICAL_ROLES else wanted_role
            # A password nobody knows; the user chooses one through the link.
            obj.set_password(secrets.token_urlsafe(32))
            super().save_model(request, obj, form, change)
            administration.record_account_change(by, obj, {}, created=True)
            self._role(request, by, obj, wanted_role)
            administration.send_password_reset(by, obj)
            form._structures_before = []
            return
        before = User.objects.get(pk=obj.pk)
        form._structures_before = list(before.structures.all())
        obj.role = before.role  # applied (or asked for) below, through the rules
        super().save_model(request, obj, form, change)
        if wanted_role != before.role:
            self._role(request, by, obj, wanted_role)
        if obj.is_active != before.is_active:
            administration.change_state(by, obj, obj.is_active)
        changed = {
            name: (getattr(before, name), getattr(obj, name))
            for name in form.changed_data
            if name not in _RECORDED_APART and name in {f.name for f in User._meta.fields}
        }
        administration.record_account_change(by, obj, changed)

    def _role(self, request: HttpRequest, by: User, obj: User, role: str) -> None:
        if role == obj.role:
            return
        try:
            outcome = administration.change_role(by, obj, role)
        except administration.AdministrationRefused as refused:
            self.message_user(request, refused.message, messages.ERROR)
            return
        if not outcome.applied:
            self.message_user(
                request,
                _("The role %(role)s awaits the approval of a second administrator.")
                % {"role": administration.role_label(role)},
                messages.WARNING,
            )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        administration.change_structures(
            _by(request), form.instance, form._structures_before, form.instance.structures.all()
        )

    @admin.action(description=_("Send a password reset link by email"))
    def send_password_reset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        by = _by(request)
        for user in queryset:
            if administration.send_password_reset(by, user):
                self.message_user(
                    request, _("A reset link was sent to %(name)s.") % {"name": user.username}
                )
            else:
                self.message_user(
                    request,
                    _("No link sent to %(name)s: the account is inactive or has no email.")
                    % {"name": user.username},
                    messages.WARNING,
                )


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    """Clinical roles asked for by one administrator, decided by another."""

    list_display = ("user", "role", "requested_by", "requested_at", "state", "decided_by")
    list_filter = ("state", "role")
    fields = ("user", "role", "requested_by", "requested_at", "state", "decided_by", "decided_at")
    actions = ("approve", "refuse")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _decide(self, request: HttpRequest, queryset: QuerySet[RoleGrant], approve: bool) -> None:
        for grant in queryset.filter(state=GrantState.PENDING).select_related("user"):
            try:
                administration.decide_grant(_by(request), grant, approve)
            except administration.AdministrationRefused as refused:
                self.message_user(request, refused.message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    (
                        _("%(name)s is now %(role)s.")
                        if approve
                        else _("Grant refused for %(name)s.")
                    )
                    % {"name": grant.user.username, "role": administration.role_label(grant.role)},
                )

    @admin.action(description=_("Approve the selected grants (you did not ask for them)"))
    def approve(self, request: HttpRequest, queryset: QuerySet[RoleGrant]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description=_("Refuse the selected grants"))
    def refuse(self, request: HttpRequest, queryset: QuerySet[RoleGrant]) -> None:
        self._decide(request, queryset, approve=False)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made by `create_api_token`; here they can only be seen and revoked."""

    list_display = (
        "prefix",
        "user",
        "label",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    fields = ("user", "prefix", "label", "created_at", "expires_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = sum(revoke_api_token(t, _by(request)) for t in queryset.select_related("user"))
        self.message_user(request, _("Tokens revoked: %(count)d.") % {"count": revoked})


admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    """Authenticators are listed and removed; their key is never shown to anyone here."""

    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: TOTPDevice) -> None:
        try:
            administration.remove_second_factor(_by(request), obj)
        except administration.AdministrationRefused as refused:
            raise PermissionDenied(refused.message) from refused

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[TOTPDevice]) -> None:
        for device in queryset.select_related("user"):
            self.delete_model(request, device)


admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    """django-axes' lockouts; deleting one unlocks the account, which is recorded."""

    def delete_model(self, request: HttpRequest, obj: AccessAttempt) -> None:
        user = User.objects.filter(username=obj.username).first()
        super().delete_model(request, obj)
        if user is not None:
            administration.record_unlock(_by(request), user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        for attempt in queryset:
            self.delete_model(request, attempt)


@admin.register(AdministrationEntry)
class AdministrationEntryAdmin(admin.ModelAdmin):
    """The administration journal: the chained entries about accounts, roles and the matrix."""

    list_display = ("seq", "at", "actor_label", "action_label", "concerned", "outcome")
    list_filter = ("action", "outcome")
    fields = (
        "seq",
        "at",
        "actor_label",
        "actor_role",
        "action",
        "outcome",
        "channel",
        "ip",
        "detail",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[AdministrationEntry]:
        return (
            super()
            .get_queryset(request)
            .filter(patient__isnull=True, action__in=administration.JOURNAL_ACTIONS)
        )

    @admin.display(description=_("action"))
    def action_label(self, entry: AdministrationEntry) -> str:
        return entry.get_action_display()

    @admin.display(description=_("account concerned"))
    def concerned(self, entry: AdministrationEntry) -> str:
        return str(entry.detail.get("username", "")) if isinstance(entry.detail, dict) else ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
