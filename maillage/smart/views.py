"""The SMART authorization page (consent), and the wiring of the toolkit's endpoints.

The authorization endpoint is django-oauth-toolkit's, behind our sign-in
(password, then the professional's TOTP; ``next`` survives both steps) and
with our consent page: the app, and what each scope it asks for allows.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.views import AuthorizationView, RevokeTokenView
from oauthlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError

from maillage.audit.actions import Event, record
from maillage.audit.models import Action
from maillage.smart import endpoints
from maillage.smart.descriptions import describe
from maillage.smart.tokens import held_token
from maillage.smart.validator import scopes_fit

# An origin as a CSP source: nothing that could end the directive.
_ORIGIN = re.compile(r"[a-z][a-z0-9+.\-]{0,30}:(//[A-Za-z0-9.\-\[\]:]{1,255})?")


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"
    return origin if _ORIGIN.fullmatch(origin) else ""


def _for_this_server(request: HttpRequest) -> bool:
    """The ``aud`` the app names, when it names one, is our FHIR base URL."""
    from maillage.fhir.views import base_url

    aud = request.GET.get("aud")
    return aud is None or aud.rstrip("/") == base_url(request).rstrip("/")


class SmartAuthorizationView(AuthorizationView):
    template_name = "smart/authorize.html"

    def validate_authorization_request(
        self, request: HttpRequest
    ) -> tuple[list[str], dict[str, Any]]:
        scopes, credentials = super().validate_authorization_request(request)
        # An app may name a scope twice (fhirclient adds launch/patient itself):
        # each is asked, shown and granted once.
        scopes = list(dict.fromkeys(scopes))
        state = credentials.get("state")
        redirect_uri = credentials.get("redirect_uri")
        # S256 only: a "plain" challenge is the verifier itself, readable by
        # whoever sees the authorization request.
        if credentials.get("code_challenge_method") != "S256":
            raise OAuthToolkitError(
                InvalidRequestError(description="code_challenge_method must be S256.", state=state),
                redirect_uri=redirect_uri,
            )
        if not _for_this_server(request):
            # A token asked for another server must not be minted here (SMART's aud).
            raise OAuthToolkitError(
                InvalidRequestError(description="aud is not this FHIR server.", state=state),
                redirect_uri=redirect_uri,
            )
        if not scopes_fit(list(scopes), "authorization_code", request.user):
            raise OAuthToolkitError(
                InvalidScopeError(
                    description=(
                        "These scopes cannot be granted to this account "
                        "(patient/ scopes are for a patient's own app; system/ scopes "
                        "for client credentials)."
                    ),
                    state=state,
                ),
                redirect_uri=redirect_uri,
            )
        return scopes, credentials

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["scope_lines"] = [(scope, describe(scope)) for scope in kwargs.get("scopes", [])]
        context["return_to"] = _origin(str(kwargs.get("redirect_uri") or ""))
        return context

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().get(request, *args, **kwargs)
        redirect_uri = self.oauth2_data.get("redirect_uri") or ""
        origin = _origin(redirect_uri) if response.status_code == 200 else ""
        if origin:
            # The consent form posts here and is answered by a redirect to the
            # app: the browser applies form-action to that redirect too.
            from maillage.front.middleware import POLICY

            response.headers["Content-Security-Policy"] = POLICY.replace(
                "form-action 'self'", f"form-action 'self' {origin}"
            )
        return response

    def form_valid(self, form: Any) -> HttpResponse:
        response: HttpResponse = super().form_valid(form)
        location = response.get("Location", "")
        # A code in the redirect's query, not "code=" anywhere (the app's state may hold it).
        if form.cleaned_data.get("allow") and "code" in parse_qs(urlsplit(location).query):
            record(
                self.request.user,
                Event(
                    action=Action.APP_AUTHORIZED,
                    detail={
                        "client_id": form.cleaned_data.get("client_id", ""),
                        "scope": form.cleaned_data.get("scope", ""),
                    },
                ),
            )
        return response


@require_GET
def smart_configuration(request: HttpRequest) -> JsonResponse:
    """``/fhir/r4/.well-known/smart-configuration``: public, what an app needs to connect."""
    from maillage.fhir.views import base_url

    response = JsonResponse(endpoints.smart_configuration(base_url(request)))
    # Read by apps running in a browser on another origin; it holds no secret.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@method_decorator(csrf_exempt, name="dispatch")
class AuditedRevokeTokenView(RevokeTokenView):
    """RFC 7009 revocation by the app, with an entry on the trail of the account it acted as."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        held = held_token(str(request.POST.get("token", "")))
        response: HttpResponse = super().post(request, *args, **kwargs)
        if held is not None and response.status_code == 200 and held.gone():
            record(
                held.user,
                Event(
                    action=Action.APP_REVOKED,
                    detail={"client_id": held.client_id, "by": "app", "kind": held.kind},
                ),
            )
        return response
