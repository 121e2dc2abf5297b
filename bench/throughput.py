"""FHIR read throughput against a real server: ``python -m bench.throughput --database sqlite``.

Builds a database of its own (SQLite in a temporary directory, or the
PostgreSQL database ``maillage_throughput`` on the server of DATABASE_URL,
127.0.0.1:5432 by default), fills it with the benchmark's directory and
patients (no records nor messages: a Patient read does not touch them), gives
the bench doctor an API token, starts uvicorn with ``--workers`` processes and
drives it with wrk (Debian's ``wrk`` package) for ``--seconds`` on each of:

- ``metadata``: the CapabilityStatement, no database work, the baseline;
- ``Patient/<id>``: the bench doctor reads one of their own patients, a
  different one each request; every read appends its audit entry, which is
  committed before the response leaves (``maillage.audit.actions``).

It prints reads/s, reads/s per core (the cores given to the server: the
workers, at most the machine's CPUs; wrk shares them), p50 and p99, the ratio
to ``metadata``, and checks afterwards that every answered read has its
entry and that the trail verifies. Exit status is 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import database
from maillage.testing.ports import free_port

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Load:
    label: str
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--patients", type=int, default=20_000, help="rows in the patients table")
    parser.add_argument("--professionals", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--connections", type=int, default=16, help="wrk's open connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--seconds", type=int, default=15, help="duration of each load")
    parser.add_argument(
        "--interface",
        choices=("asgi", "wsgi"),
        default="asgi",
        help="serve maillage.asgi (as make run does) or maillage.wsgi (HTTP only)",
    )
    parser.add_argument("--keep-db", action="store_true")
    return parser.parse_args(argv)


def _fill(patients: int, professionals: int) -> tuple[str, list[str]]:
    """The fixture, and (bearer token, Patient ids the token's doctor may read)."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    import random

    from bench.directory_data import build_directory
    from bench.fixture import SEED, Sizes, _doctor_account
    from bench.patient_data import build_patients
    from maillage.accounts.actions import create_api_token

    sizes = Sizes(patients=patients, professionals=professionals)
    rng = random.Random(SEED)
    directory = build_directory(
        rng,
        structures=sizes.structures,
        professionals=sizes.professionals,
        practices=sizes.practices,
    )
    built = build_patients(rng, directory, sizes.patients, lambda done: None)
    user = _doctor_account(directory.home_gps[0])
    token = create_api_token(user, "throughput benchmark")
    from django.db import connection, connections

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    connections.close_all()
    return token, [str(u) for u in built.panel]


def _lua(path: Path, token: str, paths: list[str]) -> None:
    """A wrk script: the bearer token on every request, the paths in turn."""
    quoted = ",\n".join(f'  "{p}"' for p in paths)
    path.write_text(
        f"""local paths = {{
{quoted}
}}
local i = 0
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Accept"] = "application/fhir+json"
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
"""
    )


def _server(
    port: int,
    workers: int,
    interface: str,
    log: Path,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    command = [
        str(ROOT / ".venv" / "bin" / "uvicorn"),
        f"maillage.{interface}:application",
        "--interface",
        "wsgi" if interface == "wsgi" else "asgi3",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--lifespan",
        "off",
    ]
    handle = log.open("wb")
    process = subprocess.Popen(  # noqa: S603 (our own command line, no shell)
        command, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://localhost:{port}/fhir/r4/metadata", timeout=5):
                return process
        except OSError:
            time.sleep(0.5)
    _stop(process)
    raise SystemExit(f"uvicorn did not answer within 60 s; see {log}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    # Our own process group (start_new_session): the master and its workers.
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if found is None:
        return float("nan")
    return float(found.group(1)) * _UNITS[found.group(2)]


def _wrk(label: str, url: str, script: Path, args: argparse.Namespace) -> Load:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    command = [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.seconds}s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    # Our own command line, no shell.
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors:.*", out)
    if socket_errors:
        print(f"  {label}: {socket_errors.group(0)}", file=sys.stderr)
    return Load(
        label=label,
        requests=int(total.group(1)) if total else 0,
        per_second=float(rate.group(1)) if rate else 0.0,
        p50_ms=_ms(p50.group(1)) if p50 else float("nan"),
        p99_ms=_ms(p99.group(1)) if p99 else float("nan"),
        errors=int(errors.group(1)) if errors else 0,
    )


def _patient_reads() -> int:
    from django.db import connections

    from maillage.audit.models import Action, AuditEntry

    connections.close_all()  # the server wrote meanwhile; start from a fresh view
    return AuditEntry.objects.filter(action=Action.PATIENT_READ).count()


def _intact() -> bool:
    from maillage.audit.actions import verify_chain

    return verify_chain().intact


def _report(loads: list[Load], cores: int, reads_in_trail: int, intact: bool) -> None:
    base = loads[0].per_second or 1.0
    print(
        f"{'request':<16}{'req/s':>9}{'per core':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'/metadata':>11}{'non-2xx':>9}"
    )
    for load in loads:
        print(
            f"{load.label:<16}{load.per_second:>9.0f}{load.per_second / cores:>10.0f}"
            f"{load.p50_ms:>9.1f}{load.p99_ms:>9.1f}{load.per_second / base:>11.2f}"
            f"{load.errors:>9}"
        )
    answered = loads[-1].requests - loads[-1].errors
    print(
        f"Patient reads answered by wrk: {answered}; PATIENT_READ entries in the trail: "
        f"{reads_in_trail} (at least as many: reads still in flight when wrk stops are "
        f"audited too); trail verifies: {'yes' if intact else 'NO'}"
    )


def _load_average() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.database == "postgres":
        os.environ.setdefault("DATABASE_URL", DEFAULT_POSTGRES)
    else:
        os.environ.pop("DATABASE_URL", None)
    db = database.prepare(database.THROUGHPUT_DATABASE)
    workdir = Path(tempfile.mkdtemp(prefix="maillage-throughput-"))
    try:
        print(f"Building {args.patients:,} patients on {args.database}...", file=sys.stderr)
        token, panel = _fill(args.patients, args.professionals)
        reads = workdir / "reads.lua"
        _lua(reads, token, [f"/fhir/r4/Patient/{u}" for u in panel])
        metadata = workdir / "metadata.lua"
        _lua(metadata, token, ["/fhir/r4/metadata"])
        port = free_port()
        server = _server(port, args.workers, args.interface, workdir / "uvicorn.log")
        print(_load_average())
        try:
            url = f"http://localhost:{port}"
            _wrk("warm-up", url, reads, argparse.Namespace(**{**vars(args), "seconds": 2}))
            loads = [_wrk("metadata", url, metadata, args)]
            before = _patient_reads()
            loads.append(_wrk("Patient/<id>", url, reads, args))
        finally:
            _stop(server)
        in_trail, intact = _patient_reads() - before, _intact()
        cores = min(args.workers, os.cpu_count() or 1)
        print(
            f"{args.database}: uvicorn {args.workers} workers ({args.interface}), "
            f"wrk {args.threads} threads {args.connections} connections {args.seconds} s, "
            f"{args.patients:,} patients, "
            f"per core = over {cores} cores"
        )
        _report(loads, cores, in_trail, intact)
        print(_load_average())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        print(database.dispose(db, keep=args.keep_db), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
