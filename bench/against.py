"""Patient reads against an earlier tree, in one run: ``python -m bench.against a896efe``.

Issue 8 asks for ten times "today's figure", the FHIR Patient reads a
second that uvicorn with two workers served on the main it was filed on
(``a896efe``). A figure from another day is from another machine (ours
moved ``metadata`` from 61 to over 1 000 a second between sessions, with no
change to its code), so the only fair comparison is both trees on one
machine in one run. This does that:

- the earlier tree is exported with ``git archive`` into a temporary
  directory and run with this checkout's venv; the current one is this
  working tree;
- each gets a fresh SQLite database in its own ``MAILLAGE_VAR_DIR`` (or,
  with ``--database postgres``, a PostgreSQL database of its own,
  ``maillage_against_N`` on the server of DATABASE_URL), its own
  ``migrate`` and ``load_demo`` (the demo territory, as the issue measured),
  and an API token for ``medecin.traitant``, whose panel the reads walk;
- each is served by uvicorn with ``--workers`` processes, the earlier one
  through ``maillage.asgi`` (all it had), the current one through
  ``maillage.asgi`` (as ``make run`` serves it) and ``maillage.wsgi`` (HTTP
  as docs/deploy.md serves it beside the ASGI workers of ``/ws/``);
- wrk drives ``metadata`` and then the reads, in rounds that alternate the
  servers (``--rounds``), so that a change of the machine's load falls on
  all of them alike.

It prints each server's reads a second (median over the rounds), per core,
p50/p99, the ratio to its own ``metadata``, and each current server's
multiple of the earlier tree's reads. Exit status 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import database
from bench.throughput import DEFAULT_POSTGRES, ROOT, Load, _lua, _server, _stop, _wrk
from maillage.testing.ports import free_port

# Run inside each tree's own Django (its models, its actions): the token and
# the panel's Patient ids, as JSON on the last line.
_SETUP = """
import json
from maillage.accounts.actions import create_api_token
from maillage.accounts.models import User
from maillage.patients.models import Patient
doctor = User.objects.get(username="medecin.traitant")
token = create_api_token(doctor, "bench.against")
ids = [str(u) for u in Patient.objects.filter(treating_doctor=doctor.professional)
       .order_by("pk").values_list("uuid", flat=True)]
print(json.dumps({"token": token, "ids": ids}))
"""


@dataclass
class Tree:
    label: str
    path: Path
    interface: str
    var_dir: Path
    # PostgreSQL: this tree's own database on the server of DATABASE_URL.
    database_url: str = ""
    token: str = ""
    reads: Path | None = None
    metadata: Path | None = None
    loads: list[tuple[Load, Load]] = field(default_factory=list)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.against", description=__doc__)
    parser.add_argument("baseline", nargs="?", default="a896efe", help="the earlier commit")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10, help="each load, each round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="postgres: a database per tree (maillage_against_N) on DATABASE_URL's server",
    )
    return parser.parse_args(argv)


def _export(commit: str, into: Path) -> None:
    archive = into.with_suffix(".tar")
    # Our own command line, no shell.
    subprocess.run(  # noqa: S603
        ["git", "archive", "--format=tar", "-o", str(archive), commit],  # noqa: S607
        cwd=ROOT,
        check=True,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    archive.unlink()


def _environment(tree: Tree) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(MAILLAGE_VAR_DIR=str(tree.var_dir), MAILLAGE_DEMO_MODE="1", PYTHONPATH="")
    if tree.database_url:
        env["DATABASE_URL"] = tree.database_url
    return env


def _postgres_databases(trees: list[Tree]) -> str:
    """Give each tree an empty database of its own; the maintenance URL to drop them from."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_POSTGRES
    maintenance = database._with_database(url, "postgres")
    for number, tree in enumerate(trees):
        name = f"maillage_against_{number}"
        database._create(maintenance, name)
        tree.database_url = database._with_database(url, name)
    return maintenance


def _manage(tree: Tree, *args: str) -> str:
    python = str(ROOT / ".venv" / "bin" / "python")
    done = subprocess.run(  # noqa: S603 (our own command line, no shell)
        [python, "manage.py", *args],
        cwd=tree.path,
        env=_environment(tree),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{tree.label}: manage.py {args[0]} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def _prepare(tree: Tree, workdir: Path) -> None:
    print(f"{tree.label}: migrate and load_demo...", file=sys.stderr)
    _manage(tree, "migrate", "--noinput", "--verbosity", "0")
    _manage(tree, "load_demo", "--if-empty")
    found = json.loads(_manage(tree, "shell", "-c", _SETUP).strip().splitlines()[-1])
    tree.token = found["token"]
    tree.reads = workdir / f"{tree.label}-reads.lua"
    tree.metadata = workdir / f"{tree.label}-metadata.lua"
    _lua(tree.reads, tree.token, [f"/fhir/r4/Patient/{u}" for u in found["ids"]])
    _lua(tree.metadata, tree.token, ["/fhir/r4/metadata"])


def _round(tree: Tree, args: argparse.Namespace, workdir: Path) -> None:
    assert tree.reads is not None and tree.metadata is not None
    port = free_port()
    log = workdir / f"{tree.label}.log"
    # uvicorn imports the tree it is started in.
    server = _server(port, args.workers, tree.interface, log, tree.path, _environment(tree))
    try:
        url = f"http://localhost:{port}"
        _wrk("warm-up", url, tree.reads, argparse.Namespace(**{**vars(args), "seconds": 2}))
        metadata = _wrk("metadata", url, tree.metadata, args)
        reads = _wrk("Patient/<id>", url, tree.reads, args)
    finally:
        _stop(server)
    tree.loads.append((metadata, reads))
    print(
        f"  {tree.label}: metadata {metadata.per_second:.0f}/s, reads {reads.per_second:.0f}/s",
        file=sys.stderr,
    )


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _report(trees: list[Tree], args: argparse.Namespace) -> None:
    cores = min(args.workers, os.cpu_count() or 1)
    base = _median([r.per_second for _m, r in trees[0].loads]) or 1.0
    print(
        f"uvicorn {args.workers} workers, wrk {args.threads} threads {args.connections} "
        f"connections {args.seconds} s, {args.rounds} rounds (medians), demo territory, "
        f"{'PostgreSQL' if args.database == 'postgres' else 'SQLite'}"
    )
    print(
        f"{'server':<28}{'metadata/s':>11}{'reads/s':>9}{'per core':>10}{'p50 ms':>8}"
        f"{'p99 ms':>8}{'/metadata':>10}{'x earlier':>10}{'non-2xx':>8}"
    )
    for tree in trees:
        metadata = _median([m.per_second for m, _r in tree.loads])
        reads = _median([r.per_second for _m, r in tree.loads])
        p50 = _median([r.p50_ms for _m, r in tree.loads])
        p99 = _median([r.p99_ms for _m, r in tree.loads])
        errors = sum(r.errors for _m, r in tree.loads)
        print(
            f"{tree.label:<28}{metadata:>11.0f}{reads:>9.0f}{reads / cores:>10.0f}{p50:>8.1f}"
            f"{p99:>8.1f}{reads / (metadata or 1):>10.2f}{reads / base:>10.2f}{errors:>8}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    workdir = Path(tempfile.mkdtemp(prefix="maillage-against-"))
    trees: list[Tree] = []
    maintenance = ""
    try:
        earlier = workdir / "earlier"
        _export(args.baseline, earlier)
        trees = [
            Tree(f"{args.baseline} (asgi)", earlier, "asgi", workdir / "var-earlier"),
            Tree("this tree (asgi)", ROOT, "asgi", workdir / "var-asgi"),
            Tree("this tree (wsgi)", ROOT, "wsgi", workdir / "var-wsgi"),
        ]
        if args.database == "postgres":
            maintenance = _postgres_databases(trees)
        for tree in trees:
            tree.var_dir.mkdir()
            _prepare(tree, workdir)
        for number in range(args.rounds):
            print(f"round {number + 1} of {args.rounds}", file=sys.stderr)
            for tree in trees if number % 2 == 0 else reversed(trees):
                _round(tree, args, workdir)
        _report(trees, args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        for number in range(len(trees)) if maintenance else ():
            database._drop(maintenance, f"maillage_against_{number}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
