"""Assisted teleconsultation: from the cuff's notification on the nurse's page to the doctor's.

``python -m bench.assisted [--runs 5]``

Runs the assisted browser test (``maillage/assisted/tests/
test_browser_assisted.py``: real Chromium pages of the doctor and the nurse
in one act, a live server, the simulated cuff's bytes through bluetooth.js's
notification path) ``--runs`` times, each in a fresh pytest process on the
database the environment names, and collects the delay it prints: measured
inside the pages on one clock, from the notification on the nurse's page to
the room frame on the doctor's, without Playwright's polling. Prints each
run and the median, min and max; never fails on timing (issue 12: each
reading on the doctor's page within a second).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = (
    "maillage/assisted/tests/test_browser_assisted.py"
    "::test_the_doctor_asks_the_cuff_answers_and_a_typed_spo2_is_checked"
)
# The line the test prints (a fixed format of ours, read back: no user text).
FIGURE = re.compile(r"assisted: cuff reading on the doctor's page (\d+) ms")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="browser test runs")
    return parser.parse_args(argv)


def one_run() -> int | None:
    """The delay of one run, in milliseconds; None if the test did not pass."""
    done = subprocess.run(  # noqa: S603 (our own interpreter and test id)
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:randomly", "-p", "no:xdist", TEST],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    found = FIGURE.search(done.stdout)
    if done.returncode != 0 or found is None:
        print(done.stdout[-2000:], done.stderr[-2000:], sep="\n")
        return None
    return int(found.group(1))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    delays: list[int] = []
    for run in range(1, args.runs + 1):
        delay = one_run()
        print(f"  run {run}: {'failed' if delay is None else f'{delay} ms'}", flush=True)
        if delay is not None:
            delays.append(delay)
    if not delays:
        print("no run passed")
        return 0
    print(
        f"cuff notification → doctor's page: median {statistics.median(delays):.0f} ms, "
        f"min {min(delays)}, max {max(delays)} over {len(delays)} runs (goal: under 1 000 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
