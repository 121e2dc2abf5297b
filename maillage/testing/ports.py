"""Ports for the servers a test or a benchmark starts: free now, and kept out of the kernel's way.

Asking the kernel for port 0 returns a port from its ephemeral range, the range it
also draws from for the local end of every outgoing connection (the browsers',
PostgreSQL's, Redis's). Between our check and the server's own bind, such a port
can become the local end of someone's connection and the server cannot listen:
CI's run of 5 December lost its TURN test so (coturn, "errno=98" on its TCP
listener, retried for ever). A port below that range is only taken by whoever asks
for it by number, so the window is only the other tests' servers, and a port is
checked on TCP and on UDP (coturn listens on both).
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_LOWEST = 10000
_random = random.SystemRandom()


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for outgoing connections' local ports (32768-60999 by default)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def bindable(port: int) -> bool:
    """Nobody holds the port on 127.0.0.1, on TCP nor on UDP."""
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_port_block(size: int = 1) -> int:
    """The first of ``size`` consecutive ports below the ephemeral range, all free now."""
    top = min(ephemeral_range()[0], 32768) - size
    if top <= _LOWEST:
        raise RuntimeError(f"the kernel's ephemeral range leaves no {size} ports above {_LOWEST}")
    for _ in range(500):
        first = _random.randrange(_LOWEST, top)
        if all(bindable(port) for port in range(first, first + size)):
            return first
    raise RuntimeError(f"no {size} free ports between {_LOWEST} and {top + size}")


def free_port() -> int:
    """A port below the ephemeral range, free on TCP and UDP now."""
    return free_port_block(1)
