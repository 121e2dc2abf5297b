"""A village line on one machine: the patient's browser behind a shaped, lossy, cuttable link.

As root: a network namespace joined to the host by a veth pair, the server
listening on the host's end, the patient's Chromium run inside the namespace
(Playwright launches it through a wrapper that is ``ip netns exec <ns>
/usr/bin/chromium``; the pipe Playwright talks over survives the exec). The
line is shaped with ``tc … tbf`` on both ends (our kernels have no netem
qdisc) and loses or drops packets with Debian's nftables inside the
namespace (``numgen random mod 100 < N drop``, or ``drop`` for a cut).

``unavailable()`` says, in words, why a machine cannot build one (not root,
a tool missing, namespaces refused); the tests skip with that reason, and
only that part.

Found on the CI image (Debian 12, kernel 6.18, 2026-12): netns, veth, tbf
and nftables work; netem is absent ("Specified qdisc kind is unknown");
``ping`` is not installed (the probe below uses a socket).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from maillage.testing.browser import CHROMIUM, CHROMIUM_ARGS, ThreadedServer

IP = shutil.which("ip") or "/usr/sbin/ip"
TC = shutil.which("tc") or "/usr/sbin/tc"
NFT = shutil.which("nft") or "/usr/sbin/nft"
TABLE = "netlab"

# Chromium flags for a call between two fake cameras, without prompts.
WEBRTC_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]


class NetlabError(RuntimeError):
    pass


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    # Our own fixed commands (ip, tc, nft) with names and numbers the harness made.
    done = subprocess.run(args, capture_output=True, text=True, timeout=20, check=False)  # noqa: S603
    if check and done.returncode != 0:
        raise NetlabError(f"{' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")
    return done


def unavailable() -> str | None:
    """Why this machine cannot build a line, in words; None when it can."""
    if os.geteuid() != 0:
        return "the weak-line test needs root (ip netns, tc, nft); run it as root"
    for tool, package in ((IP, "iproute2"), (TC, "iproute2"), (NFT, "nftables")):
        if not os.access(tool, os.X_OK):
            return f"{tool} is missing: `make test` installs Debian's {package}"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing: `make test` installs Debian's chromium"
    probe = f"nlprobe{os.getpid()}"
    added = _run(IP, "netns", "add", probe, check=False)
    if added.returncode != 0:
        return f"this machine refuses network namespaces: {added.stderr.strip()}"
    _run(IP, "netns", "delete", probe, check=False)
    return None


def _free_subnet() -> int:
    """A third octet of 10.231.x.0/30 no interface of the host uses (pid first, then any)."""
    used = _run(IP, "-o", "-4", "addr", "show").stdout
    start = os.getpid() % 250
    for step in range(250):
        third = 1 + (start + step) % 250
        if f"10.231.{third}." not in used:
            return third
    raise NetlabError("no free 10.231.x.0/30 subnet")


@dataclass
class Line:
    """The patient's end of the line and the controls over it."""

    ns: str
    host_if: str
    ns_if: str
    host_addr: str
    ns_addr: str
    chromium: Path  # the wrapper that starts Chromium inside the namespace

    def _ns(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _run(IP, "netns", "exec", self.ns, *args, check=check)

    def shape(self, kbit: int | None) -> None:
        """Both directions limited to ``kbit`` kbit/s (tbf); None lifts the limit."""
        for runner, dev in ((_run, self.host_if), (self._ns, self.ns_if)):
            if kbit is None:
                runner(TC, "qdisc", "del", "dev", dev, "root", check=False)
                continue
            # A bucket of 50 ms of traffic, at least one full packet; up to 300 ms queued.
            burst = max(3000, kbit * 1000 // 8 // 20)
            runner(
                *(TC, "qdisc", "replace", "dev", dev, "root", "tbf"),
                *("rate", f"{kbit}kbit", "burst", str(burst), "latency", "300ms"),
            )

    def _rules(self, *rules: str) -> None:
        self._ns(NFT, "flush", "chain", "inet", TABLE, "in")
        self._ns(NFT, "flush", "chain", "inet", TABLE, "out")
        for rule in rules:
            self._ns(NFT, "add", "rule", "inet", TABLE, "in", f'iifname "{self.ns_if}"', rule)
            self._ns(NFT, "add", "rule", "inet", TABLE, "out", f'oifname "{self.ns_if}"', rule)

    def lose(self, percent: int) -> None:
        """Each packet lost with this probability, both ways (0: none)."""
        if not 0 <= percent <= 100:
            raise ValueError(percent)
        self._rules(f"numgen random mod 100 < {percent} drop" if percent else "accept")

    def cut(self) -> None:
        """Nothing passes either way; the interfaces stay up (a line dead beyond the box)."""
        self._rules("drop")

    def restore(self) -> None:
        """No loss, no cut (the shaping stays as set)."""
        self._rules("accept")

    def counters(self) -> str:
        return self._ns(NFT, "list", "table", "inet", TABLE).stdout


def _create(ns: str, host_if: str, ns_if: str, third: int, wrapper: Path) -> Line:
    host_addr, ns_addr = f"10.231.{third}.1", f"10.231.{third}.2"
    _run(IP, "netns", "add", ns)
    _run(IP, "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
    _run(IP, "link", "set", ns_if, "netns", ns)
    _run(IP, "addr", "add", f"{host_addr}/30", "dev", host_if)
    _run(IP, "link", "set", host_if, "up")
    _run(IP, "-n", ns, "addr", "add", f"{ns_addr}/30", "dev", ns_if)
    _run(IP, "-n", ns, "link", "set", ns_if, "up")
    _run(IP, "-n", ns, "link", "set", "lo", "up")
    line = Line(ns, host_if, ns_if, host_addr, ns_addr, wrapper)
    line._ns(NFT, "add", "table", "inet", TABLE)
    for chain, hook in (("in", "input"), ("out", "output")):
        line._ns(
            NFT, "add", "chain", "inet", TABLE, chain, f"{{ type filter hook {hook} priority 0; }}"
        )
    wrapper.write_text(f'#!/bin/sh\nexec {IP} netns exec {ns} {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    return line


@contextmanager
def village_line(workdir: Path) -> Iterator[Line]:
    """A fresh namespace and veth pair, removed afterwards whatever happened."""
    tag = f"{os.getpid() % 100000}"
    ns, host_if, ns_if = f"ml{tag}", f"mlh{tag}", f"mlp{tag}"
    try:
        line = _create(ns, host_if, ns_if, _free_subnet(), workdir / "chromium-in-line")
        yield line
    finally:
        # Deleting the namespace deletes its end of the pair, and so the pair.
        _run(IP, "netns", "delete", ns, check=False)
        _run(IP, "link", "delete", host_if, check=False)


class HostServer(ThreadedServer):
    """The app under uvicorn on one address of the host (the veth's end), not only loopback."""

    def __init__(self, host: str) -> None:
        super().__init__()
        self.host = host
        self.server.config.host = host

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def chromium_args(origin: str) -> list[str]:
    """Flags for a call page at ``origin``: fake devices, and plain http treated as secure.

    getUserMedia needs a secure context; loopback is one, the veth's address is not.
    """
    return [*CHROMIUM_ARGS, *WEBRTC_ARGS, f"--unsafely-treat-insecure-origin-as-secure={origin}"]
