"""The ports the tests' servers listen on (maillage.testing.ports): CI's TURN failure, 5 Dec."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from maillage.testing import ports, turn


def _outgoing_connection() -> tuple[socket.socket, socket.socket, socket.socket]:
    """A TCP connection on loopback: its client end holds a port of the ephemeral range."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = socket.create_connection(server.getsockname())
    accepted, _ = server.accept()
    return server, client, accepted


def test_a_port_held_by_an_outgoing_connection_is_not_bindable() -> None:
    # The race CI lost: free on UDP (what the old check asked), the local end of
    # a TCP connection; coturn cannot listen there on TCP.
    held = _outgoing_connection()
    try:
        port = held[1].getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", port))  # the old check passed
        assert not ports.bindable(port)
    finally:
        for sock in held:
            sock.close()


def test_free_ports_are_below_the_ephemeral_range_and_free() -> None:
    low, _ = ports.ephemeral_range()
    for _ in range(50):
        port = ports.free_port()
        assert 10000 <= port < low
        assert ports.bindable(port)
    first = ports.free_port_block(100)
    assert first + 100 <= low
    assert all(ports.bindable(p) for p in range(first, first + 100))


def test_coturn_reports_why_it_did_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every attempt failing, the error names the attempts, the exit code and the log."""
    reason = turn.unavailable()
    if reason:
        pytest.skip(reason)
    # Its UDP port already taken (a silent socket): coturn retries its bind for ever
    # and never answers STUN there (a TCP connection accepted would prove nothing).
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", ports.free_port()))
    taken = blocker.getsockname()[1]
    monkeypatch.setattr(ports, "free_port", lambda: taken)
    monkeypatch.setattr(turn, "_STARTUP_SECONDS", 1.0)
    try:
        with pytest.raises(RuntimeError) as failure, turn.coturn(tmp_path, attempts=2):
            pass
    finally:
        blocker.close()
    message = str(failure.value)
    assert "after 2 attempts" in message
    assert f"port {taken}" in message
    assert "Cannot bind" in message  # the log's tail, not only its path
    # Both attempts' turnservers are stopped.
    assert not _turnservers_on(taken)


def _turnservers_on(port: int) -> list[Path]:
    """The processes whose command line is a turnserver listening on ``port``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile
        if argv[0].endswith(b"turnserver") and str(port).encode() in argv:
            found.append(cmdline)
    return found
