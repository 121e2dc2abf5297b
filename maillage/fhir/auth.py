"""Bearer-token authentication of the API, and the scopes of an app's token.

Only ``Authorization: Bearer <token>`` counts: a session cookie never
authenticates an API call, so that a page open in a browser cannot be
turned into a FHIR client (the API is exempt from CSRF for that reason).

Two kinds of token open the API:

- an API token of ours (``mlg_…``, made by ``create_api_token``, for
  scripts): the full rights of its user;
- an OAuth access token of a SMART app (maillage.smart): the same user (or
  the service account of a system client), narrowed by the scopes granted.

Either way the policy decides every access; scopes only take away. The
router asks ``require_scope`` before any handler, at one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from maillage.accounts.actions import TOKEN_PREFIX, user_for_token
from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome
from maillage.fhir.outcome import FhirError, Issue
from maillage.smart.scopes import Scopes
from maillage.smart.tokens import app_token

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.fhir.router import FhirRequest

_CHALLENGE = 'Bearer realm="maillage"'
# Longer than any token we issue; refuses megabyte headers before hashing them.
_MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True)
class Caller:
    """Who calls the API, and what the token lets through before the policy decides."""

    user: User
    # None: an API token of ours, the full rights of its user.
    scopes: Scopes | None = None
    application: str = ""  # the app's client_id, for the audit trail


def bearer_token(authorization: str) -> str | None:
    scheme, _sep, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return token


def _caller(token: str) -> Caller | None:
    if token.startswith(TOKEN_PREFIX):
        user = user_for_token(token)
        return Caller(user) if user is not None else None
    found = app_token(token)
    if found is None:
        return None
    return Caller(found.user, Scopes.of(found.scopes), found.client_id)


def authenticate(request: FhirRequest) -> Caller:
    authorization = request.header("authorization")
    if not authorization.strip():
        raise FhirError(401, headers={"WWW-Authenticate": _CHALLENGE})
    token = bearer_token(authorization)
    caller = _caller(token) if token else None
    if caller is None:
        raise FhirError(
            401,
            [Issue(_("The API token is missing, unknown, expired or revoked."), code="login")],
            headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'},
        )
    return caller


def require_scope(caller: Caller, resource_type: str, interaction: str) -> None:
    """Refuse (403, audited) what the app's scopes do not grant; an API token of ours passes.

    A route without a resource type (system-level) is refused to an app's
    token unless it is listed: each entry of such a request must be asked
    again here by whoever dispatches it.
    """
    if caller.scopes is None or caller.scopes.allows(resource_type, interaction):
        return
    record(
        caller.user,
        Event(
            action=Action.SCOPE_REFUSED,
            outcome=Outcome.DENIED,
            detail={
                "rule": "scope",
                "fhir": resource_type,
                "interaction": interaction,
                "client_id": caller.application,
            },
        ),
    )
    raise FhirError(
        403,
        [
            Issue(
                _("The scopes granted to this app do not allow this interaction (%(what)s).")
                % {"what": f"{interaction} {resource_type}".strip()},
                code="forbidden",
            )
        ],
        headers={"WWW-Authenticate": f'{_CHALLENGE}, error="insufficient_scope"'},
    )
