"""The room's socket at ``/ws/teleconsult/<act>/``: waiting room, admission, signalling, chat.

Frames are the typed envelopes of ``maillage.realtime``: ``{"type", "seq",
"data"}`` (``seq`` 0: these are live, not stored). Who is on the socket is
decided by ``policy.teleconsult`` at the handshake (an account's session,
or a guest's seat in her session) and every write asks it again.

Client to server (``frames.parse``): ``hello``; ``ping``/``pong``;
``signal`` (to a participant: an SDP description or an ICE candidate,
relayed only if ``policy.teleconsult.relay_target`` says both are in this
room now); ``chat``; ``quality`` (what the browser measured of its line);
``incident`` (audio-only switch, video back, failure); ``media`` (my
microphone, camera, audio-only state, for the others' tiles); ``leave``;
and for the doctor ``admit`` and ``end``.

Server to client: ``welcome`` (who I am, where: ``waiting`` or ``room``,
the others in the room), ``lobby`` (the doctor: who waits, since when,
their line), ``admitted``, ``peer.joined``, ``peer.left``, ``signal``,
``chat``, ``file``, ``media``, ``quality`` (the doctor: a participant's
line), ``ended``, ``error``, ``ping``/``pong``.

Groups: one per participant (frames addressed to them), the act's room
(joined once admitted: only those inside get its chat and its peers), the
act's doctor (lobby changes: the list itself is read for the doctor by the
policy when it is sent) and the whole act (its end).

A socket that closes without ``leave`` is a drop: the participant stays
admitted and comes back to the room by herself (a drop incident, closed by
a reconnection incident, is kept with the act).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from maillage.audit.context import audit_context
from maillage.audit.models import Action, Channel
from maillage.policy.teleconsult import ConsultationNotFound, Seat, Visitor, take_seat
from maillage.realtime.auth import client_ip
from maillage.realtime.envelopes import Envelope
from maillage.teleconsult import frames, room
from maillage.teleconsult.actions import RoomRuleBroken
from maillage.teleconsult.visitors import session_of, visitor

CLOSE_BAD_FRAME = 4400
CLOSE_REFUSED = 4403
CLOSE_ENDED = 4410
CLOSE_SILENT = 4408

logger = logging.getLogger(__name__)


def participant_group(participant_uuid: object) -> str:
    return f"tc.p.{str(participant_uuid).replace('-', '')}"


def room_group(consultation_uuid: object) -> str:
    return f"tc.r.{str(consultation_uuid).replace('-', '')}"


def doctor_group(consultation_uuid: object) -> str:
    return f"tc.d.{str(consultation_uuid).replace('-', '')}"


def act_group(consultation_uuid: object) -> str:
    return f"tc.a.{str(consultation_uuid).replace('-', '')}"


class RoomConsumer(AsyncWebsocketConsumer):
    seat: Seat
    ip: str | None
    inside: bool
    leaving: bool
    # Our close is sent (or the page hung up): nothing more goes to this socket.
    closing: bool
    last_heard: float
    beat: asyncio.Task[None]

    # --- Handshake and close ----------------------------------------------------

    async def connect(self) -> None:
        self.ip = client_ip(dict(self.scope))
        self.inside = False
        self.leaving = False
        self.closing = False
        consultation_uuid = str(self.scope["url_route"]["kwargs"]["consultation"])
        found = await database_sync_to_async(self._seat)(consultation_uuid)
        if found is None:
            await self.close(code=CLOSE_REFUSED)
            return
        self.seat = found
        act = self.seat.consultation.uuid
        await self.channel_layer.group_add(
            participant_group(self.seat.participant.uuid), self.channel_name
        )
        await self.channel_layer.group_add(act_group(act), self.channel_name)
        if self.seat.is_doctor:
            await self.channel_layer.group_add(doctor_group(act), self.channel_name)
        await self.accept()
        self.last_heard = asyncio.get_running_loop().time()
        self.beat = asyncio.create_task(self._heartbeat())

    def _seat(self, consultation_uuid: str) -> Seat | None:
        user = self.scope.get("user")
        session = session_of(dict(self.scope))
        who = visitor(user, session or {}, consultation_uuid)
        if who.user is None and who.guest is None:
            return None
        with audit_context(Channel.WEB, self.ip):
            try:
                return take_seat(
                    who, consultation_uuid, Action.TELECONSULT_READ, detail={"socket": "open"}
                )
            except ConsultationNotFound:
                return None

    async def disconnect(self, code: int) -> None:
        beat = getattr(self, "beat", None)
        if beat is not None and beat is not asyncio.current_task():
            beat.cancel()
        if not hasattr(self, "seat"):
            return
        act = self.seat.consultation.uuid
        for group in (
            participant_group(self.seat.participant.uuid),
            act_group(act),
            doctor_group(act),
            room_group(act),
        ):
            await self.channel_layer.group_discard(group, self.channel_name)
        await database_sync_to_async(room.gone)(self.seat, left=self.leaving)
        left = {"participant": str(self.seat.participant.uuid), "dropped": not self.leaving}
        await self._to_group(room_group(act), "peer.left", left)
        await self._to_group(doctor_group(act), "lobby.changed", {})

    # --- Frames from the browser ------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.last_heard = asyncio.get_running_loop().time()
        try:
            frame = frames.parse(text_data)
        except frames.BadFrame as error:
            await self._send(Envelope("error", data={"code": error.code}))
            await self._close(CLOSE_BAD_FRAME)
            return
        extension = frames.EXTENSIONS.get(frame.type)
        try:
            if extension is not None:
                await extension.handle(self, frame.data)
            else:
                await getattr(self, f"on_{frame.type}")(frame.data)
        except RoomRuleBroken as error:
            await self._send(Envelope("error", data={"code": "refused", "message": error.message}))
        except ConsultationNotFound:
            await self._send(Envelope("error", data={"code": "refused"}))

    async def on_ping(self, data: dict[str, Any]) -> None:
        await self._send(Envelope("pong", data={"t": data.get("t")}))

    async def on_pong(self, data: dict[str, Any]) -> None:
        return None

    async def on_hello(self, data: dict[str, Any]) -> None:
        welcome = await self._call(room.arrive_and_welcome, self.seat)
        self.inside = welcome["where"] == "room"
        act = self.seat.consultation.uuid
        if self.inside:
            await self._enter_room(welcome)
        else:
            await self._send(Envelope("welcome", data=welcome))
        await self._to_group(doctor_group(act), "lobby.changed", {})

    async def _enter_room(self, welcome: dict[str, Any]) -> None:
        act = self.seat.consultation.uuid
        await self.channel_layer.group_add(room_group(act), self.channel_name)
        await self._send(Envelope("welcome", data=welcome))
        await self._to_group(room_group(act), "peer.joined", welcome["me"], exclude_self=True)

    async def on_signal(self, data: dict[str, Any]) -> None:
        target = await self._call(room.relay_to, self.seat, data["to"])
        if target is None:
            await self._send(Envelope("error", data={"code": "not_in_room"}))
            return
        relayed = {"from": str(self.seat.participant.uuid), **data["payload"]}
        await self._to_group(participant_group(target), "signal", relayed)

    async def on_chat(self, data: dict[str, Any]) -> None:
        line = await self._call(room.chat, self.seat, data["text"])
        await self._to_group(room_group(self.seat.consultation.uuid), "chat", line)

    async def on_quality(self, data: dict[str, Any]) -> None:
        await self._call(room.quality, self.seat, data)
        report = {"participant": str(self.seat.participant.uuid), **data}
        await self._to_group(doctor_group(self.seat.consultation.uuid), "quality", report)

    async def on_incident(self, data: dict[str, Any]) -> None:
        await self._call(room.incident, self.seat, data["kind"], data.get("detail", {}))

    async def on_media(self, data: dict[str, Any]) -> None:
        if not self.inside and not self.seat.is_doctor:
            return
        state = {"participant": str(self.seat.participant.uuid), **data}
        await self._to_group(
            room_group(self.seat.consultation.uuid), "media", state, exclude_self=True
        )

    async def on_admit(self, data: dict[str, Any]) -> None:
        admitted = await self._call(room.admit, self.seat, data["participant"])
        await self._to_group(participant_group(admitted), "admitted", {})
        await self._to_group(doctor_group(self.seat.consultation.uuid), "lobby.changed", {})

    async def on_end(self, data: dict[str, Any]) -> None:
        await self._call(room.end, self.seat)
        await self._to_group(act_group(self.seat.consultation.uuid), "ended", {})

    async def on_leave(self, data: dict[str, Any]) -> None:
        self.leaving = True
        await self._close(1000)

    # --- Frames from the channel layer ------------------------------------------

    async def room_frame(self, message: dict[str, Any]) -> None:
        kind = message["kind"]
        data: dict[str, Any] = message["data"]
        if message.get("exclude") == self.channel_name:
            return
        if kind == "admitted":
            welcome = await self._call(room.arrive_and_welcome, self.seat)
            if welcome["where"] == "room" and not self.inside:
                self.inside = True
                await self._enter_room(welcome)
            return
        if kind == "lobby.changed":
            if self.seat.is_doctor:
                lobby = await self._call(room.lobby, self.seat)
                await self._send(Envelope("lobby", data={"waiting": lobby}))
            return
        if kind == "ended":
            await self._end()
            return
        if kind in {"signal", "chat", "file", "peer.joined", "peer.left", "media"} and not (
            self.inside or self.seat.is_doctor
        ):
            return
        await self._send(Envelope(kind, data=data))

    # --- Plumbing ---------------------------------------------------------------

    async def _call(self, function: Any, *args: Any) -> Any:
        def run() -> Any:
            with audit_context(Channel.WEB, self.ip):
                return function(*args)

        return await database_sync_to_async(run)()

    async def _to_group(
        self, group: str, kind: str, data: dict[str, Any], *, exclude_self: bool = False
    ) -> None:
        message = {"type": "room.frame", "kind": kind, "data": data}
        if exclude_self:
            message["exclude"] = self.channel_name
        await self.channel_layer.group_send(group, message)

    async def _send(self, envelope: Envelope) -> None:
        if self.closing:
            return
        try:
            await self.send(text_data=json.dumps(envelope.as_json(), ensure_ascii=False))
        except OSError:
            # The page hung up (uvicorn's ClientDisconnected): its disconnect follows.
            self.closing = True

    async def _close(self, code: int) -> None:
        self.closing = True
        await self.close(code=code)

    async def _end(self) -> None:
        """Say the act ended and close, once: its frame and the heartbeat may both see it."""
        if self.closing:
            return
        await self._send(Envelope("ended"))
        await self._close(CLOSE_ENDED)

    async def _heartbeat(self) -> None:
        interval = float(settings.MAILLAGE_REALTIME_HEARTBEAT_SECONDS)
        silence = float(settings.MAILLAGE_REALTIME_SILENCE_SECONDS)
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(interval, silence))
            if loop.time() - self.last_heard > silence:
                await self._close(CLOSE_SILENT)
                return
            still = await database_sync_to_async(room.still_seated)(self.seat)
            if not still:
                # The act ended (perhaps before its frame reached this socket).
                await self._end()
                return
            await self._send(Envelope("ping"))


__all__ = ["RoomConsumer", "Visitor"]
