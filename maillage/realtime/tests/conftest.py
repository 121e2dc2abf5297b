"""Pieces shared by the real-time tests: the channel layer, sockets, signed-in sessions.

With REDIS_URL set (CI), the layer is Redis, on database 2 and under a
prefix of each test's own; otherwise the in-memory layer.
"""

from __future__ import annotations

import os
import sys
import threading
import types
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest

# channels.testing's __init__ imports its live-server test case, built on
# daphne (Twisted), which we neither use nor install: uvicorn serves us.
if "channels.testing.live" not in sys.modules:
    _live = types.ModuleType("channels.testing.live")
    _live.ChannelsLiveServerTestCase = None  # type: ignore[attr-defined]
    sys.modules["channels.testing.live"] = _live

from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from maillage.accounts.models import User

T = TypeVar("T")

# The Redis database the real-time tests may use (others use other numbers).
REDIS_DB = 2
ORIGIN = "http://127.0.0.1"


def redis_url() -> str | None:
    url = os.environ.get("REDIS_URL")
    if not url:
        return None
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{REDIS_DB}", "", ""))


@pytest.fixture(autouse=True)
def channel_layer(settings):
    url = redis_url()
    if url:
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [url], "prefix": f"maillage-test-{uuid.uuid4().hex[:8]}"},
            }
        }
    else:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.MAILLAGE_REALTIME_HEARTBEAT_SECONDS = 0.1
    settings.MAILLAGE_REALTIME_SILENCE_SECONDS = 5
    return settings.CHANNEL_LAYERS["default"]["BACKEND"]


def signed_in_session(user: User, *, second_factor: bool = True) -> str:
    """The session key of a sign-in, with the second factor checked as the login view does."""
    client = Client()
    client.force_login(user)
    if second_factor:
        device = TOTPDevice.objects.create(user=user, name="Maillage", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def socket(
    *, session: str | None = None, token: str | None = None, origin: str | None = ORIGIN
) -> WebsocketCommunicator:
    from maillage.asgi import application

    headers: list[tuple[bytes, bytes]] = []
    if origin:
        headers.append((b"origin", origin.encode()))
    if session:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode()))
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    return WebsocketCommunicator(application, "/ws/", headers=headers)


async def receive_event(communicator: WebsocketCommunicator, timeout: float = 10) -> dict:
    """The next frame that is not a ping (heartbeats run fast in these tests)."""
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame["type"] != "ping":
            return frame


async def hello(communicator: WebsocketCommunicator, last_seq: int = 0) -> dict:
    await communicator.send_json_to({"type": "hello", "seq": 0, "data": {"last_seq": last_seq}})
    welcome = await receive_event(communicator)
    assert welcome["type"] == "welcome", welcome
    return welcome


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    """Run an async scenario from a thread of its own, closing its connections after.

    Not from the test's thread: once a browser test has run, Playwright's event
    loop lives there and async_to_sync refuses it.
    """
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = async_to_sync(scenario)()
        except BaseException as error:  # re-raised in the test's thread
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=target, name="realtime-scenario")
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive(), "the scenario did not finish"
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
