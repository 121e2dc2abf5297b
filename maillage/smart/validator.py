"""The OAuth validator: SMART scopes, refresh only with offline_access, launch context.

django-oauth-toolkit asks it at each step of a grant. What it adds to the
toolkit's own checks:

- a scope is granted only if SMART understands it and it fits the grant:
  ``system/`` for client credentials only, ``patient/`` only for a patient
  signing in (her own compartment), ``user/`` for any user of an app;
- no refresh token unless ``offline_access`` was granted (and none is
  honoured without it);
- the launch context ``patient`` in the token response of a patient's app;
- ``fhirUser`` in the id_token: ``Practitioner/{id}`` or ``Patient/{id}``.
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator

from maillage.smart import scopes as s
from maillage.smart.identity import fhir_user, launch_patient


def _is_patient(user: Any) -> bool:
    from maillage.accounts.models import Role

    return bool(user is not None and getattr(user, "role", "") == Role.PATIENT)


MAX_SCOPES = 32


def scopes_fit(names: list[str], grant_type: str, user: Any) -> bool:
    """Whether these scopes may be granted in this grant (to this user, when known)."""
    # Bounded, repeats included: a token's scopes are stored, audited and
    # checked on every call it makes (the consent page folds a repeat).
    if not names or len(names) > MAX_SCOPES:
        return False
    if not all(s.is_known(n) for n in names):
        return False
    clinical = [c for n in names if (c := s.parse_clinical(n)) is not None]
    contexts = {c.context for c in clinical}
    if grant_type == "client_credentials":
        # A system client acts without a user: nothing but system scopes.
        return bool(clinical) and contexts == {s.Context.SYSTEM} and len(clinical) == len(names)
    if s.Context.SYSTEM in contexts:
        return False
    # Patient scopes confine to the launch patient; only a patient's own
    # account has one in a standalone launch (no patient picker here).
    return user is None or s.Context.PATIENT not in contexts or _is_patient(user)


def _is_system_client(client: Any) -> bool:
    from maillage.smart.models import SystemClient

    pk = getattr(client, "pk", None)
    return pk is not None and SystemClient.objects.filter(application_id=pk).exists()


class SmartValidator(OAuth2Validator):
    # Claims and the scope that releases each one.
    oidc_claim_scope = {"sub": "openid", "fhirUser": "fhirUser"}

    def validate_scopes(
        self,
        client_id: str,
        scopes: list[str],
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        grant_type = getattr(request, "grant_type", None) or "authorization_code"
        if grant_type == "client_credentials" and not _is_system_client(client):
            # No account bound to it: its token would act as nobody.
            return False
        return scopes_fit(list(scopes), grant_type, getattr(request, "user", None))

    def get_default_scopes(
        self, client_id: str, request: Any, *args: Any, **kwargs: Any
    ) -> list[str]:
        # An app names what it asks for; nothing is granted by default.
        return []

    def _save_bearer_token(
        self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any
    ) -> Any:
        granted = s.Scopes.of(str(token.get("scope", "")).split())
        if not granted.has(s.OFFLINE):
            # The response is the dict itself: what is removed here is never sent.
            token.pop("refresh_token", None)
        if request.grant_type != "client_credentials" and (
            granted.has(s.LAUNCH_PATIENT) or s.Context.PATIENT in granted.contexts
        ):
            patient = launch_patient(request.user)
            if patient is not None:
                token["patient"] = patient
        return super()._save_bearer_token(token, request, *args, **kwargs)

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        original = self.get_original_scopes(refresh_token, request)
        names = original.split() if isinstance(original, str) else list(original)
        return s.OFFLINE in names

    def get_claim_dict(self, request: Any) -> dict[str, Any]:
        # Public ids, never primary keys (STYLE.md).
        claims: dict[str, Any] = {"sub": str(request.user.uuid)}
        reference = fhir_user(request.user)
        if reference:
            claims["fhirUser"] = reference
        return claims

    def get_discovery_claims(self, request: Any) -> list[str]:
        return ["sub", "fhirUser"]
