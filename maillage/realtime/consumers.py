"""The events socket at ``/ws/``: handshake, resume by sequence, heartbeat.

1. The handshake: the auth middleware put a user in the scope or the
   socket is refused (HTTP 403 before it opens). The consumer joins the
   user's group *before* reading what was missed, so no event falls between
   the replay and the live stream.
2. ``hello`` with the client's ``last_seq``: ``welcome`` (the server's last
   seq, and ``missed`` when pruned events cannot be replayed), then each
   stored event after it, in order.
3. Live events: one whose seq was already sent is dropped (no duplicate);
   one that overtook others on the layer is preceded by them, read from the
   database (no gap, in order). Events that come before ``hello`` are
   dropped: they were committed before they were sent, so the replay that
   ``hello`` starts reads them.
4. Heartbeat: a ``ping`` every MAILLAGE_REALTIME_HEARTBEAT_SECONDS; a client
   silent for MAILLAGE_REALTIME_SILENCE_SECONDS is closed (4408); at each
   beat the credential is checked again (sign-out, idle session, revoked or
   expired token: 4401; the check impossible, database away: 1011).

Detail beyond an event's identifiers is asked of the policy for this user
when the frame is sent (``detail.detail_for``).
"""

from __future__ import annotations

import asyncio
import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from uvicorn.protocols.utils import ClientDisconnected

from maillage.accounts.models import User
from maillage.realtime import events
from maillage.realtime.auth import Credential, client_ip, still_valid
from maillage.realtime.detail import detail_for
from maillage.realtime.envelopes import BadFrame, Envelope, JsonValue, parse_client_frame

CLOSE_BAD_FRAME = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_SILENT = 4408
CLOSE_UNAVAILABLE = 1011

logger = logging.getLogger(__name__)


class EventsConsumer(AsyncWebsocketConsumer):
    user: User
    credential: Credential
    ip: str | None
    group: str
    # The loop time of the last frame from the client.
    last_heard: float
    beat: asyncio.Task[None]
    # The last seq sent on this socket; None until the client said hello.
    sent_seq: int | None

    async def connect(self) -> None:
        user = self.scope.get("user")
        credential = self.scope.get("realtime_credential")
        if not isinstance(user, User) or not isinstance(credential, Credential):
            await self.close()
            return
        self.user, self.credential = user, credential
        self.ip = client_ip(self.scope)
        self.sent_seq = None
        self.group = events.group_name(user.pk)
        self.last_heard = asyncio.get_running_loop().time()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self.beat = asyncio.create_task(self._heartbeat())

    async def disconnect(self, code: int) -> None:
        beat = getattr(self, "beat", None)
        if beat is not None and beat is not asyncio.current_task():
            beat.cancel()
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.last_heard = asyncio.get_running_loop().time()
        try:
            frame = parse_client_frame(text_data)
            if frame.type == "hello" and self.sent_seq is not None:
                raise BadFrame("hello_twice")
        except BadFrame as error:
            await self._send(Envelope("error", data={"code": error.code}))
            await self.close(code=CLOSE_BAD_FRAME)
            return
        if frame.type == "ping":
            await self._send(Envelope("pong"))
        elif frame.type == "hello":
            await self._resume(frame.last_seq)

    async def _resume(self, after: int) -> None:
        resume = await database_sync_to_async(events.resume_after)(self.user.pk, after)
        await self._send(
            Envelope(
                "welcome",
                data={
                    "last_seq": resume["last_seq"],
                    "missed": resume["missed"],
                    "heartbeat": float(settings.MAILLAGE_REALTIME_HEARTBEAT_SECONDS),
                },
            )
        )
        # A client ahead of the server (another database, a forged value) restarts from ours.
        self.sent_seq = min(after, resume["last_seq"])
        for event in resume["events"]:
            await self._send_event(event.seq, event.kind, event.data)

    async def realtime_event(self, message: events.GroupEvent) -> None:
        """An event published for this user, from the channel layer."""
        if self.sent_seq is None:
            return
        seq = int(message["seq"])
        if seq <= self.sent_seq:
            return
        if seq > self.sent_seq + 1:
            missing = await database_sync_to_async(events.events_between)(
                self.user.pk, self.sent_seq, seq
            )
            for event in missing:
                await self._send_event(event.seq, event.kind, event.data)
        await self._send_event(seq, message["kind"], message["data"])

    async def _send_event(self, seq: int, kind: str, data: dict[str, JsonValue]) -> None:
        assert self.sent_seq is not None
        if seq <= self.sent_seq:
            return
        detail = await database_sync_to_async(detail_for)(self.user, kind, data, self.ip)
        await self._send(Envelope(kind, seq, {**data, **detail}))
        self.sent_seq = seq

    async def _send(self, envelope: Envelope) -> None:
        await self.send(text_data=json.dumps(envelope.as_json(), ensure_ascii=False))

    async def _heartbeat(self) -> None:
        try:
            await self._beat()
        except ClientDisconnected:
            # The client left between two beats: the disconnect handler ends the
            # socket; nothing is left to close or to tell.
            return

    async def _beat(self) -> None:
        interval = float(settings.MAILLAGE_REALTIME_HEARTBEAT_SECONDS)
        silence = float(settings.MAILLAGE_REALTIME_SILENCE_SECONDS)
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(interval, silence))
            if loop.time() - self.last_heard > silence:
                await self.close(code=CLOSE_SILENT)
                return
            try:
                valid = await database_sync_to_async(still_valid)(
                    self.user, self.credential, self.ip
                )
            except Exception:
                # The check could not be made (database away): close rather than
                # keep a socket whose sign-in nobody vouches for; the client retries.
                logger.exception("credential check failed for user %s", self.user.pk)
                await self.close(code=CLOSE_UNAVAILABLE)
                return
            if not valid:
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return
            await self._send(Envelope("ping"))
