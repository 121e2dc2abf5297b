from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from maillage.accounts.signals import LAST_SEEN, SIGNED_IN_AT
from maillage.fhir.paths import PREFIX as API_PREFIX

# Paths a signed-in professional may reach before the second factor.
# Only the pages that lead to the second factor, never the whole account
# area: the token list (/comptes/jetons/) is for a checked person only.
_OPEN_PREFIXES = (
    "/comptes/connexion/",
    "/comptes/second-facteur/",
    "/comptes/deconnexion/",
    "/comptes/mot-de-passe/",
    "/static/",
    API_PREFIX,
    "/favicon",
)
# The last-seen time is written at most this often, not on every request.
_TOUCH_SECONDS = 60


def second_factor_checked(user: object) -> bool:
    """django-otp's OTPMiddleware gives every request user an is_verified()."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def skips_second_factor(user: object) -> bool:
    """Demo accounts skip the second factor, only in demo mode (banner shown)."""
    return bool(settings.DEMO_MODE and getattr(user, "is_demo", False))


def require_second_factor(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Professionals reach nothing but the sign-in pages until their TOTP is checked.

    The FHIR API authenticates by bearer token on its own and is left alone.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        # None on an API request (maillage.front.pages_only).
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "needs_second_factor", False)
            and not second_factor_checked(user)
            and not skips_second_factor(user)
            and not request.path.startswith(_OPEN_PREFIXES)
        ):
            # Where the person was going survives the second factor (an app's
            # authorization request, a bookmarked page); a POST is not replayed.
            target = reverse("accounts:second_factor")
            # The home page is where the second factor leads anyway.
            if request.method == "GET" and request.get_full_path() != "/":
                target += "?" + urlencode({"next": request.get_full_path()})
            return redirect(target)
        return get_response(request)

    return middleware


def session_expired(session: dict[str, object] | object, now: float) -> bool:
    """Idle too long, or signed in longer than the absolute limit."""
    get = getattr(session, "get", None)
    if get is None:
        return False
    last_seen = get(LAST_SEEN)
    signed_in_at = get(SIGNED_IN_AT)
    idle = settings.MAILLAGE_IDLE_TIMEOUT_MINUTES * 60
    if isinstance(last_seen, int | float) and now - last_seen > idle:
        return True
    return (
        isinstance(signed_in_at, int | float) and now - signed_in_at > settings.SESSION_COOKIE_AGE
    )


def session_timeouts(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Sign out a session idle for MAILLAGE_IDLE_TIMEOUT_MINUTES, or older than SESSION_COOKIE_AGE.

    The last-seen time moves the idle limit; the sign-in time is fixed, so a
    session kept busy still ends (Django's own expiry slides whenever the
    session is saved). Sessions made before these keys existed get them now.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return get_response(request)
        now = time.time()
        session = request.session
        if session_expired(session, now):
            logout(request)
            query = urlencode({"session": "expiree", "next": request.get_full_path()})
            return redirect(f"{reverse('accounts:login')}?{query}")
        session.setdefault(SIGNED_IN_AT, int(now))
        last_seen = session.get(LAST_SEEN)
        if not isinstance(last_seen, int | float) or now - last_seen >= _TOUCH_SECONDS:
            session[LAST_SEEN] = int(now)
        return get_response(request)

    return middleware
