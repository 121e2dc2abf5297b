"""A clamd client speaking INSTREAM, so that a file is scanned before it is sealed.

clamd (ClamAV's daemon) listens on a unix socket or TCP; MAILLAGE_CLAMD names
it ("/run/clamav/clamd.ctl" or "127.0.0.1:3310"). The file goes in chunks,
each prefixed by its length (4 bytes, network order), ended by a zero length;
clamd answers "stream: OK" or "stream: <signature> FOUND". Anything else
(an error, a timeout, a closed socket) is ScanUnavailable: the caller refuses
the file, since an unscanned file must not be stored.
"""

from __future__ import annotations

import socket
import struct

from django.conf import settings

CHUNK = 64 * 1024
MAX_REPLY = 4096


class ScanUnavailable(Exception):
    """clamd could not give a verdict."""


def scan(data: bytes, address: str) -> str | None:
    """The signature clamd found in ``data``, or None when it is clean."""
    try:
        with _connect(address) as connection:
            connection.sendall(b"zINSTREAM\0")
            view = memoryview(data)
            for start in range(0, len(data), CHUNK):
                piece = view[start : start + CHUNK]
                connection.sendall(struct.pack("!L", len(piece)))
                connection.sendall(piece)
            connection.sendall(struct.pack("!L", 0))
            reply = _reply(connection)
    except OSError as error:
        raise ScanUnavailable(f"clamd at {address}: {error}") from None
    return _verdict(reply)


def _connect(address: str) -> socket.socket:
    timeout = float(getattr(settings, "MAILLAGE_CLAMD_TIMEOUT", 30))
    if address.startswith("/"):
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(timeout)
        try:
            connection.connect(address)
        except OSError:
            connection.close()
            raise
        return connection
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ScanUnavailable(f"MAILLAGE_CLAMD is neither a socket path nor host:port: {address}")
    return socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)


def _reply(connection: socket.socket) -> str:
    """clamd's answer, up to its terminating NUL (z-commands) or the end of the stream."""
    received = b""
    while b"\0" not in received and len(received) < MAX_REPLY:
        piece = connection.recv(MAX_REPLY)
        if not piece:
            break
        received += piece
    return received.split(b"\0", 1)[0].decode("utf-8", "replace").strip()


def _verdict(reply: str) -> str | None:
    if reply == "stream: OK":
        return None
    if reply.startswith("stream: ") and reply.endswith(" FOUND"):
        return reply[len("stream: ") : -len(" FOUND")].strip() or "?"
    raise ScanUnavailable(f"clamd answered {reply[:200]!r}")
