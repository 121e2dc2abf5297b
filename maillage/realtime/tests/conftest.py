"""Pieces shared by the real-time tests: the channel layer, sockets, signed-in sessions.

With REDIS_URL set (CI), the layer is Redis, on database 2 and under a
prefix of each test's own; otherwise the in-memory layer.
"""

from __future__ import annotations

import os
import sys
import types
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

# channels.testing's __init__ imports its live-server test case, built on
# daphne (Twisted), which we neither use nor install: uvicorn serves us.
if "channels.testing.live" not in sys.modules:
    _live = types.ModuleType("channels.testing.live")
    _live.ChannelsLiveServerTestCase = None  # type: ignore[attr-defined]
    sys.modules["channels.testing.live"] = _live

from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from maillage.accounts.models import User

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


async def receive_event(communicator: WebsocketCommunicator, timeout: float = 3) -> dict:
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
