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
import struct
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from maillage.testing import ports

TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"
# A start on a loaded CI machine takes well under a second; a failed one never listens.
_STARTUP_SECONDS = 15.0
# RFC 8489: a Binding request, its success response, the magic cookie.
_BINDING_REQUEST, _BINDING_SUCCESS, _MAGIC_COOKIE = 0x0001, 0x0101, 0x2112A442


@dataclass(frozen=True)
class Relay:
    url: str
    secret: str
    log: Path


def unavailable() -> str | None:
    if not os.access(TURNSERVER, os.X_OK):
        return f"{TURNSERVER} is missing: `make test` installs Debian's coturn"
    return None


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _answers_stun(port: int) -> bool:
    """coturn answers a STUN Binding request on UDP, the transport the tests' pairs use.

    Not a TCP connection: one accepted proves only that someone listens on the port
    (coturn's TCP listener can fail on its own; another test's server can hold it).
    """
    transaction = secrets.token_bytes(12)
    request = struct.pack("!HHI", _BINDING_REQUEST, 0, _MAGIC_COOKIE) + transaction
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.sendto(request, ("127.0.0.1", port))
            answer = sock.recv(2048)
        except OSError:
            return False
    return answer[:2] == struct.pack("!H", _BINDING_SUCCESS) and answer[8:20] == transaction


def _start(workdir: Path, attempt: int) -> tuple[subprocess.Popen[bytes], int, str, Path]:
    # Ports below the kernel's ephemeral range (maillage.testing.ports says why).
    port, relay_low = ports.free_port(), ports.free_port_block(100)
    secret = secrets.token_urlsafe(24)
    log = workdir / f"turnserver-{attempt}.log"
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
            *("--pidfile", str(workdir / f"turnserver-{attempt}.pid")),
            *("--log-file", str(log), "--simple-log"),
            "--fingerprint",
            "--verbose",
            # Its own user database, not the package's /var/lib/turn (unused with a secret).
            *("--userdb", str(workdir / f"turndb-{attempt}")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, port, secret, log


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_up(process: subprocess.Popen[bytes], port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not _answers_stun(port):
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@contextmanager
def coturn(workdir: Path, attempts: int = 3) -> Iterator[Relay]:
    """A turnserver of its own on 127.0.0.1, stopped afterwards.

    A start that fails (a port taken between our check and its bind) is tried again
    on other ports; the last failure's exit code and log are in the error.
    """
    failure = ""
    for attempt in range(1, attempts + 1):
        process, port, secret, log = _start(workdir, attempt)
        if not _wait_until_up(process, port, seconds=_STARTUP_SECONDS):
            _stop(process)
            failure = f"exit code {process.returncode}, port {port}, {log}:\n{_tail(log)}"
            continue
        try:
            yield Relay(f"turn:127.0.0.1:{port}?transport=udp", secret, log)
        finally:
            _stop(process)
        return
    raise RuntimeError(f"turnserver did not start after {attempts} attempts; {failure}")
