"""Video room benchmarks: admit→connected, and a line's return→media flowing again.

``python -m bench.teleconsult [--runs 5] [--cut 10] [--line 64:5] [--no-restart] [--room]``
(as root)

Two Debian Chromiums with fake devices call each other through the network
tests' call page (``maillage.testing.callpage``: the real room_network.js,
offers and candidates relayed by the page's server). For each run it prints:

- **admit→connected**: both pages start the call at once (the harness's
  admission) until the peer connection is ``connected``, then until audio
  bytes arrive on both sides; on loopback, and with the patient in a network
  namespace behind a veth pair (``maillage.testing.netlab``), unshaped;
- **line back→media flowing**: the patient's line shaped (``--line``
  kbit/s:loss %, e.g. 64:5 or 256:0), every packet dropped for ``--cut``
  seconds, then the line as it was: the time from its return until audio
  bytes grow again on both sides, and what the pages recorded (the drop's
  length, the ICE restarts).

With ``--room`` the same figures come through the room's own pages
(maillage.teleconsult, in a database of the benchmark's own): "admit" is the
doctor's click on "Admit" after the patient consented and waited.

Prints figures; never fails on timing (DESIGN.md: joined→connected under
1.5 s on loopback; a call cut for 10 s resumes within 5 s of the line's
return). Needs root for the namespace; without it, says so and prints the
loopback figures only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from playwright.sync_api import Playwright, sync_playwright

from maillage.testing import netlab
from maillage.testing.browser import CHROMIUM
from maillage.testing.callpage import (
    Call,
    CallServer,
    start_call,
    wait_connected,
    wait_flowing,
)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.teleconsult", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="calls of each kind")
    parser.add_argument("--cut", type=float, default=10.0, help="seconds the line is dead")
    parser.add_argument(
        "--line", default="64:5", help="the patient's line around the cut: kbit/s:loss %%"
    )
    parser.add_argument(
        "--no-restart",
        action="store_true",
        help="room_network.js restarts no ICE (to compare: does the line heal by itself?)",
    )
    parser.add_argument(
        "--room",
        action="store_true",
        help="the room's own pages (a database of its own, sign-in, consent, admission)",
    )
    return parser.parse_args(argv)


def _summary(name: str, seconds: list[float]) -> str:
    if not seconds:
        return f"{name:<44} (no run)"
    ms = [s * 1000 for s in seconds]
    return (
        f"{name:<44} n={len(ms)}  median {statistics.median(ms):7.0f} ms"
        f"  min {min(ms):7.0f}  max {max(ms):7.0f}"
    )


def _connect(call: Call) -> tuple[float, float]:
    """(start→connected, start→audio arriving on both sides), in seconds."""
    wait_connected(call, timeout=30)
    wait_flowing(call, "audio", timeout=30)
    flowing_at = time.time() * 1000
    started = min(page.evaluate("call.startedAt") for page in call.pages)
    connected = max(page.evaluate("call.connectedAt") for page in call.pages)
    return (connected - started) / 1000, (flowing_at - started) / 1000


def admission(playwright: Playwright, host: str, patient_chromium: str, runs: int) -> None:
    connected: list[float] = []
    flowing: list[float] = []
    with CallServer(host) as server:
        for run in range(runs):
            call = start_call(
                playwright,
                server.origin,
                {},
                patient_chromium=patient_chromium,
                name=f"admit{run}",
            )
            try:
                first, second = _connect(call)
            finally:
                call.close()
            connected.append(first)
            flowing.append(second)
    where = "loopback" if host == "127.0.0.1" else "veth, unshaped"
    print(_summary(f"admit→connected ({where})", connected))
    print(_summary(f"admit→audio both ways ({where})", flowing))


def line_back(
    playwright: Playwright,
    line: netlab.Line,
    runs: int,
    cut: float,
    kbit: int,
    loss: int,
    *,
    restart: bool = True,
) -> None:
    never = 10**9
    config = {} if restart else {"network": {"restartAfterMs": never, "restartEveryMs": never}}
    resumed: list[float] = []
    with CallServer(line.host_addr) as server:
        for run in range(runs):
            line.shape(None)
            line.restore()
            call = start_call(
                playwright,
                server.origin,
                config,
                patient_chromium=str(line.chromium),
                name=f"cut{run}",
            )
            try:
                wait_connected(call, timeout=30)
                wait_flowing(call, "audio", timeout=30)
                line.shape(kbit)
                line.lose(loss)
                time.sleep(8)  # settle on the weak line (audio only at 64 kbit/s)
                line.cut()
                time.sleep(cut)
                line.lose(loss)
                seconds = wait_flowing(call, "audio", timeout=60)
                resumed.append(seconds)
                time.sleep(1.5)
                records = [
                    [
                        (i["kind"], i["detail"].get("down_ms"), i["detail"].get("ice_restarts"))
                        for i in page.evaluate("call.incidents")
                        if i["kind"] in {"drop", "reconnection", "failure"}
                    ]
                    for page in call.pages
                ]
                print(
                    f"  run {run + 1}: media back {seconds * 1000:.0f} ms after the line;"
                    f" doctor {records[0]}; patient {records[1]}",
                    flush=True,
                )
            except TimeoutError as error:
                print(f"  run {run + 1}: {error}", flush=True)
            finally:
                call.close()
    variant = "" if restart else ", no ICE restart"
    name = f"line back→audio both ways ({kbit} kbit/s, {loss} %, cut {cut:g} s{variant})"
    print(_summary(name, resumed))


def _room_cast() -> Any:
    """The médecin traitant of the MSP of Sancoins and her patient, as the tests' personas."""
    from maillage.accounts.models import Role
    from maillage.directory.models import StructureKind
    from maillage.directory.terminology import Specialty
    from maillage.rtc.tests.roomcall import Cast
    from maillage.testing import factories as f

    f.ensure_communes()
    f.ensure_habilitations()
    msp = f.structure("Maison de santé de Sancoins", StructureKind.MSP, "18242")
    gp = f.professional(
        "medecin.traitant",
        last_name="Morel",
        first_name="Claire",
        specialty=Specialty.GENERAL_PRACTICE_QUALIFIED,
        structures=(msp,),
    )
    patient_user = f.user("patient", Role.PATIENT, first_name="Micheline", last_name="Girard")
    patient = f.patient(
        "GIRARD",
        "Micheline",
        followed_by=(msp,),
        treating_doctor=gp,
        user=patient_user,
        commune=f.commune("18242"),
    )
    assert gp.user is not None
    return Cast(gp.user, gp, patient, patient_user)


def room(args: argparse.Namespace, kbit: int, loss: int) -> int:
    """The same figures through the room's pages: admit is the doctor's click on "Admit"."""
    from bench import database

    reason = netlab.unavailable()
    if reason is not None:
        print(f"room figures skipped: {reason}")
        return 0
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the ORM between Playwright's calls
    db = database.prepare("maillage_bench_teleconsult")
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        from maillage.rtc.tests import roomcall

        call_command("migrate", verbosity=0, interactive=False)
        cast = _room_cast()
        connected: list[float] = []
        flowing: list[float] = []
        resumed: list[float] = []
        with (
            tempfile.TemporaryDirectory() as workdir,
            netlab.village_line(Path(workdir)) as line,
            sync_playwright() as playwright,
        ):
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, line.host_addr]
            server = netlab.HostServer(line.host_addr)
            server.start()
            browsers: list[Any] = []
            try:
                pages = roomcall.signed_in_pages(
                    playwright, server.url, cast, browsers, str(line.chromium)
                )
                for run in range(args.runs):
                    line.shape(None)
                    line.restore()
                    _act, clicked = roomcall.admit(cast, pages)
                    roomcall.wait_connected(pages, step=0.05)
                    connected.append(time.monotonic() - clicked)
                    roomcall.wait_flowing(pages, "audio", 30)
                    flowing.append(time.monotonic() - clicked)
                    line.shape(kbit)
                    line.lose(loss)
                    time.sleep(8)
                    line.cut()
                    time.sleep(args.cut)
                    line.lose(loss)
                    try:
                        seconds = roomcall.wait_flowing(pages, "audio", 60)
                    except TimeoutError as error:
                        print(f"  run {run + 1}: {error}", flush=True)
                        continue
                    resumed.append(seconds)
                    print(
                        f"  run {run + 1}: connected {connected[-1] * 1000:.0f} ms after the"
                        f" admission; media back {seconds * 1000:.0f} ms after the line",
                        flush=True,
                    )
            finally:
                for browser in browsers:
                    browser.close()
                server.stop()
        print(_summary("room: admit click→connected (veth)", connected))
        print(_summary("room: admit click→audio both ways (veth)", flowing))
        name = f"room: line back→audio both ways ({kbit} kbit/s, {loss} %, cut {args.cut:g} s)"
        print(_summary(name, resumed))
    finally:
        print(database.dispose(db, keep=False))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.room:
        kbit_text, _, loss_text = args.line.partition(":")
        return room(args, int(kbit_text), int(loss_text or 0))
    kbit, _, loss = args.line.partition(":")
    with sync_playwright() as playwright:
        admission(playwright, "127.0.0.1", CHROMIUM, args.runs)
        reason = netlab.unavailable()
        if reason is not None:
            print(f"weak-line figures skipped: {reason}")
            return 0
        with tempfile.TemporaryDirectory() as workdir, netlab.village_line(Path(workdir)) as line:
            if not args.no_restart:
                admission(playwright, line.host_addr, str(line.chromium), args.runs)
            line_back(
                playwright,
                line,
                args.runs,
                args.cut,
                int(kbit),
                int(loss or 0),
                restart=not args.no_restart,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
