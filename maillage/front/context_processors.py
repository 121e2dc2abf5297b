from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from maillage.accounts.middleware import skips_second_factor
from maillage.front.navigation import menu_for


def platform(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    if signed_in and user.needs_second_factor:  # type: ignore[union-attr]
        # Until the second factor is checked, the menu would only lead back here.
        signed_in = user.is_verified() or skips_second_factor(user)  # type: ignore[union-attr]
    return {
        "demo_mode": settings.DEMO_MODE,
        "skipping_second_factor": signed_in and skips_second_factor(user),
        "menu": menu_for(user) if signed_in else [],  # type: ignore[arg-type]
    }
