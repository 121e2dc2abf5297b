"""Django's session, user, messages and language middleware, for the pages and not the API.

An API call authenticates by its bearer token and never by a cookie
(``maillage.fhir.auth``), so a session, a lazy user and a message store
built for it are only cost: they were about a tenth of the fixed cost of a
FHIR read (bench/README, "5 December"). Nor does it negotiate a language:
French is the only one offered (``LANGUAGES``), which Django uses when no
middleware activates another. Subclasses rather than a second
list of middleware: Django's checks (admin.E408 to E410) still find them in
``MIDDLEWARE``, in their order. Nothing after them on an API request can
see ``request.user`` or ``request.session``; the FHIR views never read them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.http import HttpRequest
from django.middleware import locale

from maillage.fhir.paths import is_api


class _PagesOnly:
    """Calls the next middleware straight away for an API request.

    In an async chain ``get_response`` and the parent's ``__call__`` both
    return a coroutine, which Django awaits as it would have.
    """

    get_response: Any

    def __call__(self, request: HttpRequest) -> Any:
        if is_api(request):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc]


class SessionMiddleware(_PagesOnly, sessions.SessionMiddleware):
    pass


class AuthenticationMiddleware(_PagesOnly, auth.AuthenticationMiddleware):
    pass


class MessageMiddleware(_PagesOnly, messages.MessageMiddleware):
    pass


class LocaleMiddleware(_PagesOnly, locale.LocaleMiddleware):
    pass
