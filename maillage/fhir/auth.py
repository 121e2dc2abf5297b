"""Bearer-token authentication of the API.

Only ``Authorization: Bearer <token>`` counts: a session cookie never
authenticates an API call, so that a page open in a browser cannot be
turned into a FHIR client (the API is exempt from CSRF for that reason).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from maillage.accounts.actions import user_for_token
from maillage.fhir.outcome import FhirError, Issue

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.fhir.router import FhirRequest

_CHALLENGE = 'Bearer realm="maillage"'
# Longer than any token we issue; refuses megabyte headers before hashing them.
_MAX_TOKEN_LENGTH = 200


def bearer_token(authorization: str) -> str | None:
    scheme, _sep, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return token


def authenticate(request: FhirRequest) -> User:
    authorization = request.header("authorization")
    if not authorization.strip():
        raise FhirError(401, headers={"WWW-Authenticate": _CHALLENGE})
    token = bearer_token(authorization)
    user = user_for_token(token) if token else None
    if user is None:
        raise FhirError(
            401,
            [Issue(_("The API token is missing, unknown, expired or revoked."), code="login")],
            headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'},
        )
    return user
