from __future__ import annotations

import base64
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from maillage.accounts import actions
from maillage.accounts.forms import OneTimeCodeForm, SignInForm
from maillage.accounts.models import ApiToken, User


class SignInView(LoginView):
    form_class = SignInForm
    template_name = "accounts/sign_in.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # Set by the timeout middleware: say why the person is back here.
        context["session_expired"] = self.request.GET.get("session") == "expiree"
        return context


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return "/"


def _grouped_secret(key: bytes) -> str:
    secret = base64.b32encode(key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    """Check the TOTP code, or enrol a first authenticator app with a QR code."""
    user: User = request.user  # type: ignore[assignment]
    if not user.needs_second_factor or user.is_verified():  # type: ignore[attr-defined]
        return redirect(_next_url(request))
    device = actions.confirmed_totp_device(user)
    enrolling = device is None
    if device is None:
        device = actions.pending_totp_device(user)
    form = OneTimeCodeForm(request.POST or None)
    wait = actions.seconds_to_wait(device)
    if request.method == "POST" and form.is_valid() and wait:
        form.add_error(
            "code",
            ngettext(
                "Too many wrong codes: wait %(seconds)d second before trying again.",
                "Too many wrong codes: wait %(seconds)d seconds before trying again.",
                wait,
            )
            % {"seconds": wait},
        )
    elif request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        ok = (
            actions.confirm_totp_device(user, device, code)
            if enrolling
            else actions.check_totp(user, device, code)
        )
        if ok:
            # A new session key once both factors are in: a key seen before
            # the second factor (fixation) opens nothing afterwards.
            request.session.cycle_key()
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error("code", _("This code is wrong or has expired. Try the current one."))
    context: dict[str, object] = {"form": form, "enrolling": enrolling, "next": _next_url(request)}
    if enrolling:
        qr = segno.make(device.config_url, error="m")
        # segno writes the SVG itself from the otpauth URL: no user input in it.
        context["qr_svg"] = mark_safe(  # noqa: S308
            qr.svg_inline(scale=4, dark="#1b1b1b", light="#ffffff", omitsize=True)
        )
        context["secret"] = _grouped_secret(device.bin_key)
    return render(request, "accounts/second_factor.html", context)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("accounts:login")


@login_required
@require_http_methods(["GET"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The owner's live API tokens, each with its expiry and a button to revoke it."""
    user: User = request.user  # type: ignore[assignment]
    return render(request, "accounts/api_tokens.html", {"tokens": actions.live_tokens(user)})


@login_required
@require_POST
def revoke_api_token(request: HttpRequest, token_uuid: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    # Someone else's token looks like a missing one.
    token = ApiToken.objects.select_related("user").filter(uuid=token_uuid, user=user).first()
    if token is None:
        raise Http404
    if actions.revoke_api_token(token, by=user):
        messages.success(request, _("The token %(prefix)s… is revoked.") % {"prefix": token.prefix})
    else:
        messages.info(request, _("This token was already revoked."))
    return redirect("accounts:tokens")
