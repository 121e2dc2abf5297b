"""``make run``'s supervisor: one Ctrl-C stops both children; one child dying stops the other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from maillage.tasks.tests.helpers import wait_for

SLEEPER = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(120)"


def _supervisor(commands: list[list[str]]) -> subprocess.Popen[bytes]:
    code = (
        "import sys; from maillage.tasks.run_all import supervise; "
        f"sys.exit(supervise({commands!r}, grace=5))"
    )
    return subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).parents[3])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _pids(*files: Path) -> list[int]:
    assert wait_for(lambda: all(f.exists() and f.read_text() for f in files), 30)
    return [int(f.read_text()) for f in files]


def test_one_ctrl_c_stops_the_web_server_and_the_worker(tmp_path) -> None:
    web, worker = tmp_path / "web.pid", tmp_path / "worker.pid"
    supervisor = _supervisor(
        [[sys.executable, "-c", SLEEPER, str(web)], [sys.executable, "-c", SLEEPER, str(worker)]]
    )
    pids = _pids(web, worker)
    supervisor.send_signal(signal.SIGINT)
    assert supervisor.wait(30) == 0
    assert not any(_alive(pid) for pid in pids)


def test_when_one_child_dies_the_other_is_stopped_and_the_code_kept(tmp_path) -> None:
    web, worker = tmp_path / "web.pid", tmp_path / "worker.pid"
    supervisor = _supervisor(
        [[sys.executable, "-c", SLEEPER, str(web)], [sys.executable, "-c", SLEEPER, str(worker)]]
    )
    web_pid, worker_pid = _pids(web, worker)
    os.kill(worker_pid, signal.SIGKILL)  # the worker crashes
    assert supervisor.wait(30) == 128 + signal.SIGKILL
    assert not _alive(web_pid)


def test_a_child_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path) -> None:
    stubborn = (
        "import os, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(120)"
    )
    web, worker = tmp_path / "web.pid", tmp_path / "worker.pid"
    supervisor = _supervisor(
        [[sys.executable, "-c", stubborn, str(web)], [sys.executable, "-c", SLEEPER, str(worker)]]
    )
    web_pid, _worker_pid = _pids(web, worker)
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(60) == 0
    assert not _alive(web_pid)
