"""What the room's socket does, synchronously: each step asks the policy, writes by actions.

The consumer runs these in a worker thread (``database_sync_to_async``);
they return plain data for the frames. Nothing here reads a row the policy
did not hand out.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from maillage.policy import teleconsult as policy
from maillage.policy.teleconsult import Seat
from maillage.realtime.layer import send_to_group
from maillage.teleconsult import actions
from maillage.teleconsult.models import Participant, Quality


def describe(participant: Participant) -> dict[str, Any]:
    return {
        "participant": str(participant.uuid),
        "name": participant.display_name,
        "role": participant.role,
        "roleLabel": str(participant.get_role_display()),
    }


def arrive_and_welcome(seat: Seat) -> dict[str, Any]:
    """The socket said hello: mark the participant here and tell her where she is."""
    actions.arrive(seat)
    seat = policy.fresh(seat)
    inside = seat.is_doctor or seat.participant.in_room
    welcome: dict[str, Any] = {
        "me": describe(seat.participant),
        "where": "room" if inside and seat.consultation.is_open else "waiting",
        "status": seat.consultation.status,
        "doctor": seat.is_doctor,
        "consent": actions.has_consent(seat.consultation),
        "peers": [describe(p) for p in policy.in_room(seat)] if inside else [],
    }
    if seat.is_doctor:
        welcome["waiting"] = lobby(seat)
    return welcome


def lobby(seat: Seat) -> list[dict[str, Any]]:
    """Who waits, since when, their line: for the act's doctor only (the policy lists it)."""
    return [
        {
            **describe(p),
            "since": p.joined_at.isoformat() if p.joined_at else None,
            "quality": p.quality,
            "qualityLabel": str(Quality(p.quality).label),
            "rttMs": p.quality_detail.get("rttMs"),
        }
        for p in policy.waiting(seat)
    ]


def relay_to(seat: Seat, receiver: str) -> str | None:
    target = policy.relay_target(seat, receiver)
    return str(target.uuid) if target is not None else None


def _change(seat: Seat, *, admitted: bool = False, doctor_only: bool = False) -> tuple[Seat, Any]:
    return policy.seat_for_change(
        seat.visitor, seat.consultation.uuid, admitted=admitted, doctor_only=doctor_only
    )


def chat(seat: Seat, text: str) -> dict[str, Any]:
    seat, change = _change(seat, admitted=True)
    line = actions.say(seat, change, text)
    return {
        "from": str(seat.participant.uuid),
        "name": seat.participant.display_name,
        "text": line.text,
        "at": line.at.isoformat(),
    }


def quality(seat: Seat, data: dict[str, Any]) -> None:
    level = data.get("level", "unknown")
    detail = {k: v for k, v in data.items() if k != "level"}
    actions.report_quality(seat, "poor" if level == "lost" else level, detail)


def incident(seat: Seat, kind: str, detail: dict[str, Any]) -> None:
    seat, change = _change(seat, admitted=True)
    actions.record_incident(seat, change, kind, detail)


def admit(seat: Seat, participant_uuid: str) -> str:
    seat, change = _change(seat, doctor_only=True)
    return str(actions.admit(seat, change, participant_uuid, consent_required=True).uuid)


def end(seat: Seat) -> None:
    seat, change = _change(seat, doctor_only=True)
    actions.end(seat, change)


def gone(seat: Seat, *, left: bool) -> None:
    actions.gone(seat, left=left)


def still_seated(seat: Seat) -> bool:
    return policy.still_seated(seat)


def announce(group: str, kind: str, data: dict[str, Any]) -> None:
    """After the commit, a frame to a group of sockets (a file shared from a page)."""
    message = {"type": "room.frame", "kind": kind, "data": data}

    transaction.on_commit(lambda: send_to_group(group, message))
