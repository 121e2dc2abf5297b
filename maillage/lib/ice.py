"""ICE servers for the video room (STUN and TURN), without Django.

Media go from browser to browser; a browser behind a NAT that blocks them
needs a TURN relay (coturn). Its credentials are coturn's REST-API ones
(``use-auth-secret`` / ``static-auth-secret`` in turnserver.conf): the user
name is ``<expiry as Unix time>:<label>`` and the password the base64 of
HMAC-SHA1(shared secret, user name). Each participant gets a pair that
expires on its own; nothing is stored, and coturn checks the pair with the
secret alone. The secret never leaves the server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

# A label goes into the user name coturn logs: an opaque id, never a name.
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
_SCHEMES = ("stun:", "stuns:", "turn:", "turns:")


class IceServer(TypedDict, total=False):
    """One entry of ``RTCConfiguration.iceServers``, as the browser reads it."""

    urls: list[str]
    username: str
    credential: str


@dataclass(frozen=True)
class TurnCredentials:
    username: str
    credential: str
    expires_at: int


@dataclass(frozen=True)
class IceSettings:
    """What the installation configured (see ``settings.MAILLAGE_TURN_*``)."""

    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    # coturn's static-auth-secret: short-lived credentials per participant.
    turn_secret: str = ""
    # Fixed long-term credentials, for a relay without the REST API (not advised).
    turn_username: str = ""
    turn_password: str = ""
    ttl_seconds: int = 3 * 3600
    # "all" (direct first, the relay when needed) or "relay" (always through TURN).
    transport_policy: str = "all"


def parse_urls(value: str) -> tuple[str, ...]:
    """Comma-separated ``stun:``/``turn:``/``turns:`` URLs; anything else is refused."""
    urls = tuple(u.strip() for u in value.split(",") if u.strip())
    for url in urls:
        if not url.startswith(_SCHEMES) or any(c.isspace() for c in url):
            raise ValueError(f"not a STUN or TURN URL: {url!r}")
    return urls


def turn_rest_credentials(
    secret: str, label: str, *, now: float, ttl_seconds: int
) -> TurnCredentials:
    """coturn's REST-API credentials for ``label``, valid ``ttl_seconds`` from ``now``."""
    if not secret:
        raise ValueError("no TURN secret")
    if ttl_seconds <= 0:
        raise ValueError("the TURN credentials' lifetime must be positive")
    if not label or not set(label) <= _LABEL_CHARS or len(label) > 64:
        raise ValueError("a TURN label is an opaque id of letters, digits, '-', '_', '.'")
    expires_at = int(now) + ttl_seconds
    username = f"{expires_at}:{label}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return TurnCredentials(username, base64.b64encode(digest).decode("ascii"), expires_at)


def ice_servers(config: IceSettings, label: str, *, now: float) -> list[IceServer]:
    """The ``iceServers`` one participant's browser gets: STUN as is, TURN with its credentials."""
    servers: list[IceServer] = []
    if config.stun_urls:
        servers.append({"urls": list(config.stun_urls)})
    if config.turn_urls:
        turn: IceServer = {"urls": list(config.turn_urls)}
        if config.turn_secret:
            pair = turn_rest_credentials(
                config.turn_secret, label, now=now, ttl_seconds=config.ttl_seconds
            )
            turn["username"] = pair.username
            turn["credential"] = pair.credential
        elif config.turn_username:
            turn["username"] = config.turn_username
            turn["credential"] = config.turn_password
        servers.append(turn)
    return servers


def check(config: IceSettings) -> Sequence[str]:
    """What is wrong with a configuration, in words for the system check (empty when fine)."""
    problems: list[str] = []
    if config.turn_urls and not (config.turn_secret or config.turn_username):
        problems.append("TURN URLs without credentials: set MAILLAGE_TURN_SECRET")
    if config.turn_secret and config.turn_username:
        problems.append("both MAILLAGE_TURN_SECRET and MAILLAGE_TURN_USERNAME: keep the secret")
    if config.transport_policy not in {"all", "relay"}:
        problems.append("MAILLAGE_ICE_TRANSPORT_POLICY is 'all' or 'relay'")
    if config.transport_policy == "relay" and not config.turn_urls:
        problems.append("MAILLAGE_ICE_TRANSPORT_POLICY=relay needs MAILLAGE_TURN_URLS")
    if config.ttl_seconds <= 0:
        problems.append("MAILLAGE_TURN_TTL_SECONDS must be positive")
    return problems
