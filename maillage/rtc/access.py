"""Who may have relay credentials: a participant seated in the act's room now.

The room's policy (``maillage.policy.teleconsult``) decides and audits, as for
entering the room itself (``take_seat(..., admitted=True)``: the act under way,
the participant admitted and not gone, the doctor always). A guest is found
by the seat her redeemed link put in her session (``teleconsult.visitors``,
when installed; until then only accounts are seated). Anything refused is
``ConsultationNotFound``, a 404, as for an act that does not exist.
"""

from __future__ import annotations

import importlib

from django.http import HttpRequest

from maillage.accounts.models import User
from maillage.audit.models import Action
from maillage.policy.teleconsult import Visitor, take_seat


def _visitor(request: HttpRequest, consultation_uuid: str) -> Visitor:
    try:
        visitors = importlib.import_module("maillage.teleconsult.visitors")
    except ImportError:
        user = request.user
        return Visitor(user=user if isinstance(user, User) and user.is_authenticated else None)
    found = visitors.from_request(request, consultation_uuid)
    assert isinstance(found, Visitor)
    return found


def relay_label(request: HttpRequest, consultation_uuid: str) -> str:
    """The seated participant's opaque id (their uuid), for their TURN user name."""
    seat = take_seat(
        _visitor(request, consultation_uuid),
        consultation_uuid,
        Action.TELECONSULT_SIGNAL,
        admitted=True,
        detail={"ice_servers": True},
    )
    return str(seat.participant.uuid)
