"""A small TCP server speaking clamd's INSTREAM protocol, for tests.

It stands for ClamAV's daemon (an outside service): it reads the chunks as
clamd does and answers FOUND when the EICAR test string is in the stream.
The client under test (maillage.files.antivirus) is the real one.
"""

from __future__ import annotations

import socketserver
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: ClamdDouble = self.server  # type: ignore[assignment]
        command = self._read_exact(len(b"zINSTREAM\0"))
        if command != b"zINSTREAM\0":
            self.request.sendall(b"UNKNOWN COMMAND\0")
            return
        received = bytearray()
        while True:
            size = struct.unpack("!L", self._read_exact(4))[0]
            if size == 0:
                break
            received += self._read_exact(size)
        server.scanned.append(bytes(received))
        if EICAR in received:
            self.request.sendall(b"stream: Eicar-Test-Signature FOUND\0")
        else:
            self.request.sendall(b"stream: OK\0")

    def _read_exact(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            piece = self.request.recv(size - len(data))
            if not piece:
                raise ConnectionError("client went away")
            data += piece
        return data


class ClamdDouble(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.scanned: list[bytes] = []

    @property
    def address(self) -> str:
        host, port = self.server_address[:2]
        assert isinstance(host, str)
        return f"{host}:{port}"


@contextmanager
def clamd_double() -> Iterator[ClamdDouble]:
    server = ClamdDouble()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
