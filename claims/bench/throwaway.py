"""The benchmarks' throwaway database, and the environment of the child processes that
build and measure in it: a temporary SQLite file, or ``claims_bench_<pid>`` on the
PostgreSQL server that ``DATABASE_URL`` names, dropped at the end. The user's own database
is never opened."""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management.base import CommandError

from claims.bench.serving import loopback_env

PG_PREFIX = "claims_bench_"
SETTINGS_MODULE = "claims.bench.settings"  # production's, plus the bench's URLconf


@contextlib.contextmanager
def throwaway_database(tmp: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A temporary SQLite file, or a PostgreSQL database dropped at the end (and any left
    by an earlier bench whose process is gone, say when the server went down mid-run)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield "sqlite", {"SQLITE_PATH": str(tmp / "bench.sqlite3")}
        return
    import psycopg
    from psycopg import sql

    def drop(conn: psycopg.Connection, name: str) -> None:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )

    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    name = f"{PG_PREFIX}{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        found = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [PG_PREFIX + "%"]
        )
        for (stale,) in found.fetchall():
            pid = stale.removeprefix(PG_PREFIX)
            if pid.isdigit() and Path("/proc/self").exists() and not Path(f"/proc/{pid}").exists():
                drop(conn, stale)
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield "postgresql", {"DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}"))}
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
            drop(conn, name)


def child_env(tmp: Path) -> dict[str, str]:
    """Production settings on plain-HTTP loopback, plus the bench's URLconf (its one-row
    view), with a fresh secret and signing key; ``throwaway_database`` adds the database."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return loopback_env(
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        # As in production: with DEBUG on, Django would keep every query's SQL.
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        CLAIMS_VAR_DIR=str(tmp),
        CLAIMS_SIGNING_KEY=base64.b64encode(key).decode("ascii"),
    )


def require_throwaway(tmp: Path) -> None:
    """Refuse to run a child step anywhere but in the throwaway database under ``tmp``."""
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        ours = Path(str(database["NAME"])).resolve().parent == tmp.resolve()
    else:
        ours = str(database["NAME"]).startswith(PG_PREFIX)
    if not ours:
        raise CommandError("--step runs only against the benchmark's throwaway database.")
