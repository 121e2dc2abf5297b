"""A database of the benchmark's own, made before Django starts and removed after.

SQLite by default, in a temporary directory that also serves as
``MAILLAGE_VAR_DIR``. When ``DATABASE_URL`` is set, PostgreSQL: the server
and credentials of that URL, but always the dedicated database
``maillage_bench``, dropped and created through the ``postgres`` maintenance
database, so that no other database is ever touched.

No Django import here: this runs before ``django.setup()``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DATABASE = "maillage_bench"
# The throughput benchmark has its own, so that both can run side by side.
THROUGHPUT_DATABASE = "maillage_throughput"
_POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "pgsql"})


@dataclass(frozen=True)
class BenchDatabase:
    var_dir: Path
    name: str = BENCH_DATABASE
    # Set for PostgreSQL: where to drop the bench database from.
    maintenance_url: str | None = None
    server: str = ""

    @property
    def is_postgresql(self) -> bool:
        return self.maintenance_url is not None


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _server(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or 'local socket'}:{parts.port or 5432}"


def _drop(maintenance_url: str, name: str = BENCH_DATABASE) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _create(maintenance_url: str, name: str = BENCH_DATABASE) -> None:
    import psycopg
    from psycopg import sql

    _drop(maintenance_url, name)
    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _pin_settings(var_dir: Path) -> None:
    """Settings read from the environment, fixed for a like-for-like measure."""
    os.environ["MAILLAGE_VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "maillage.settings"
    # Real sign-in rules (no demo shortcut), no debug overhead, no HTTPS redirect.
    for flag in ("MAILLAGE_DEMO_MODE", "MAILLAGE_DEBUG", "MAILLAGE_HTTPS"):
        os.environ[flag] = "0"
    os.environ["MAILLAGE_ALLOWED_HOSTS"] = "localhost"
    # The manifest storage needs collectstatic; the finders serve from the apps.
    os.environ.pop("MAILLAGE_COLLECTED_STATIC", None)


def prepare(name: str = BENCH_DATABASE) -> BenchDatabase:
    """Make the empty database and point the settings at it; call before Django setup."""
    var_dir = Path(tempfile.mkdtemp(prefix="maillage-bench-"))
    _pin_settings(var_dir)
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return BenchDatabase(var_dir)
    if urlsplit(url).scheme not in _POSTGRES_SCHEMES:
        raise SystemExit(f"DATABASE_URL: only PostgreSQL is supported, not {url.split(':')[0]}")
    maintenance_url = _with_database(url, "postgres")
    try:
        _create(maintenance_url, name)
    except Exception as error:
        shutil.rmtree(var_dir, ignore_errors=True)
        raise SystemExit(f"Cannot create {name} on {_server(url)}: {error}") from error
    os.environ["DATABASE_URL"] = _with_database(url, name)
    return BenchDatabase(var_dir, name, maintenance_url, _server(url))


def dispose(database: BenchDatabase, *, keep: bool) -> str:
    """Remove what ``prepare`` made, unless kept; say what happened."""
    if keep:
        where = f"database {database.name} on {database.server}, " if database.is_postgresql else ""
        return f"kept: {where}{database.var_dir}"
    from django.db import connections

    connections.close_all()
    if database.maintenance_url is not None:
        _drop(database.maintenance_url, database.name)
    shutil.rmtree(database.var_dir, ignore_errors=True)
    return "benchmark database removed"
