"""Debian's coturn (``turnserver``) on loopback for a test, with a shared secret.

The same mode as production (docs/deploy.md, "TURN"): ``use-auth-secret``
with a ``static-auth-secret``, credentials made per participant by
``maillage.lib.ice``. Loopback peers are allowed here only (both browsers
are on this machine); a real relay must never allow them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"


@dataclass(frozen=True)
class Relay:
    url: str
    secret: str
    log: Path


def unavailable() -> str | None:
    if not os.access(TURNSERVER, os.X_OK):
        return f"{TURNSERVER} is missing: `make test` installs Debian's coturn"
    return None


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    """coturn listens on TCP too: a connection accepted means it is up."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@contextmanager
def coturn(workdir: Path) -> Iterator[Relay]:
    """A turnserver of its own on 127.0.0.1, stopped afterwards."""
    port = _free_udp_port()
    secret = secrets.token_urlsafe(24)
    log = workdir / "turnserver.log"
    relay_low = 40000 + (os.getpid() % 200) * 100
    process = subprocess.Popen(  # noqa: S603 (Debian's turnserver, our own arguments)
        [
            TURNSERVER,
            *("-c", "/dev/null", "-n"),
            *("--listening-ip", "127.0.0.1", "--listening-port", str(port)),
            *("--relay-ip", "127.0.0.1", "--min-port", str(relay_low)),
            *("--max-port", str(relay_low + 99)),
            "--use-auth-secret",
            f"--static-auth-secret={secret}",
            *("--realm", "maillage.test"),
            *("--no-tls", "--no-dtls", "--no-cli", "--no-rfc5780"),
            "--allow-loopback-peers",
            *("--pidfile", str(workdir / "turnserver.pid")),
            *("--log-file", str(log), "--simple-log"),
            "--fingerprint",
            "--verbose",
            # Its own user database, not the package's /var/lib/turn (unused with a secret).
            *("--userdb", str(workdir / "turndb")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"turnserver did not start; see {log}")
            time.sleep(0.05)
        yield Relay(f"turn:127.0.0.1:{port}?transport=udp", secret, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
