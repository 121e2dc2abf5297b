"""Writes on an owner's app authorizations: revoking every token of one app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from oauth2_provider.models import (
    AccessToken,
    Application,
    Grant,
    RefreshToken,
    revoke_access_token,
)

from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome

if TYPE_CHECKING:
    from maillage.accounts.models import User


@dataclass(frozen=True)
class AuthorizedApp:
    """One app that holds live tokens of the user, as the owner sees it."""

    application: Application
    scopes: tuple[str, ...]
    since: object  # datetime of the oldest live token
    expires: object  # datetime the last live token or refresh ends
    offline: bool


def authorized_apps(user: User) -> list[AuthorizedApp]:
    """The apps that can use the API in the user's name now (an access or refresh token)."""
    now = timezone.now()
    access = AccessToken.objects.filter(user=user, expires__gt=now).select_related("application")
    refresh = RefreshToken.objects.filter(user=user, revoked__isnull=True).select_related(
        "application", "access_token"
    )
    by_app: dict[int, list[AccessToken]] = {}
    applications: dict[int, Application] = {}
    for token in access:
        if token.application is not None:
            by_app.setdefault(token.application.pk, []).append(token)
            applications[token.application.pk] = token.application
    offline = {r.application_id for r in refresh if r.application is not None}
    for r in refresh:
        if r.application is not None:
            applications.setdefault(r.application.pk, r.application)
    apps = []
    for pk, application in sorted(applications.items(), key=lambda item: item[1].name):
        tokens = by_app.get(pk, [])
        scopes = sorted({s for t in tokens for s in t.scope.split()})
        last = AccessToken.objects.filter(user=user, application=application).aggregate(
            last=Max("expires")
        )["last"]
        apps.append(
            AuthorizedApp(
                application,
                tuple(scopes),
                min((t.created for t in tokens), default=None),
                last,
                pk in offline,
            )
        )
    return apps


def revoke_app(user: User, client_id: str) -> bool:
    """Revoke every token and pending code of one app for this user; False if there was none."""
    application = Application.objects.filter(client_id=client_id).first()
    if application is None:
        return False
    with transaction.atomic():
        access = list(AccessToken.objects.filter(user=user, application=application))
        # An expired token opened nothing any more: revoking only it changes nothing.
        live = [t for t in access if t.expires > timezone.now()]
        refresh = list(
            RefreshToken.objects.filter(user=user, application=application, revoked__isnull=True)
        )
        for token in access:
            revoke_access_token(token)
        for token in refresh:
            token.revoke()
        Grant.objects.filter(user=user, application=application).delete()
        detail = {"client_id": application.client_id, "application": application.name}
        if not live and not refresh:
            record(
                user,
                Event(
                    action=Action.APP_REVOKED,
                    outcome=Outcome.FAILED,
                    detail={**detail, "failure": "nothing_to_revoke"},
                ),
            )
            return False
        record(user, Event(action=Action.APP_REVOKED, detail=detail))
    return True
