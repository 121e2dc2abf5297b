"""``make run``: the web server and the background worker, one command, one Ctrl-C.

Usage: ``python -m maillage.tasks.run_all -- <web server command...>``; the
worker is ``manage.py run_worker``. Each child runs in its own session, so
the terminal's Ctrl-C reaches this supervisor only, which forwards it once
(a second SIGINT would make uvicorn and the worker abandon work in flight).
When either child exits, the other is asked to stop (SIGTERM, then SIGKILL
after a grace period) and the supervisor exits with the first one's code.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

MANAGE = Path(__file__).resolve().parents[2] / "manage.py"
GRACE_SECONDS = 15.0


def supervise(commands: list[list[str]], grace: float = GRACE_SECONDS) -> int:
    # The commands come from the Makefile, never from a request.
    children = [
        subprocess.Popen(command, start_new_session=True)  # noqa: S603
        for command in commands
    ]
    stopping = False

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    first_code = 0
    while True:
        exited = [child for child in children if child.poll() is not None]
        if exited:
            first_code = exited[0].returncode
            break
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    # Stopped on request: a clean exit. A child that died by itself: its code, or
    # 128 + the signal that killed it, as a shell says.
    if stopping:
        return 0
    return 128 - first_code if first_code < 0 else first_code or 1


def main(argv: list[str]) -> int:
    web = argv[argv.index("--") + 1 :] if "--" in argv else argv
    if not web:
        print("usage: python -m maillage.tasks.run_all -- <web server command>", file=sys.stderr)
        return 2
    worker = [sys.executable, str(MANAGE), "run_worker"]
    return supervise([web, worker])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
