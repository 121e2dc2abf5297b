"""Who is at the door of an act: the signed-in account, or a guest whose session holds her seat.

A guest's seat goes into her session when she redeems her link
(``remember_guest``); a page or a socket then finds it again for the act it
is about. A signed-in account that has a place in the act is that place,
even if the same browser once opened a guest link.
"""

from __future__ import annotations

import uuid
from importlib import import_module
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

from maillage.accounts.models import User
from maillage.policy.teleconsult import Visitor

if TYPE_CHECKING:
    from maillage.teleconsult.models import Participant

GUEST_SESSION_KEY = "teleconsult_guests"
# A browser holds the seats of a few acts at most.
MAX_GUEST_SEATS = 8


def remember_guest(session: SessionBase, participant: Participant) -> None:
    seats = dict(session.get(GUEST_SESSION_KEY) or {})
    seats[str(participant.consultation.uuid)] = str(participant.uuid)
    while len(seats) > MAX_GUEST_SEATS:
        seats.pop(next(iter(seats)))
    session[GUEST_SESSION_KEY] = seats


def _guest_seat(session: SessionBase | dict[str, Any], consultation_uuid: str) -> uuid.UUID | None:
    seats = session.get(GUEST_SESSION_KEY) or {}
    value = seats.get(consultation_uuid) if isinstance(seats, dict) else None
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def visitor(user: object, session: SessionBase | dict[str, Any], consultation_uuid: str) -> Visitor:
    guest = _guest_seat(session, consultation_uuid)
    if isinstance(user, User) and user.is_authenticated:
        # An account takes its own place; the guest seat is a fallback the policy decides.
        return Visitor(user=user, guest=guest)
    return Visitor(guest=guest)


def from_request(request: HttpRequest, consultation_uuid: object) -> Visitor:
    return visitor(request.user, request.session, str(consultation_uuid))


def session_of(scope: dict[str, Any]) -> SessionBase | None:
    """The Django session a WebSocket's cookie names (a guest's socket has no user)."""
    key = ""
    for header, value in scope.get("headers", []):
        if header == b"cookie":
            for part in bytes(value).decode("latin1").split(";"):
                name, _sep, found = part.strip().partition("=")
                if name == settings.SESSION_COOKIE_NAME:
                    key = found
    if not key or len(key) > 64:
        return None
    engine = import_module(settings.SESSION_ENGINE)
    store: SessionBase = engine.SessionStore(key)
    return store if store.exists(key) else None
