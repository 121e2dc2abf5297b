from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

# Paths a signed-in professional may reach before the second factor.
_OPEN_PREFIXES = ("/comptes/", "/static/", "/fhir/", "/favicon")


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
        user = request.user
        if (
            user.is_authenticated
            and getattr(user, "needs_second_factor", False)
            and not second_factor_checked(user)
            and not skips_second_factor(user)
            and not request.path.startswith(_OPEN_PREFIXES)
        ):
            return redirect("accounts:second_factor")
        return get_response(request)

    return middleware
