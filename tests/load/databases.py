"""The databases under test, reached directly (not through the app) for the checks: the
audit events' operation ids, verdict and evidence rows, and PostgreSQL's own controls."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

PROJECT = "russia-china"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Every database this harness makes is named claims_load_<pid>_..., so that a later run
# can tell an abandoned one (its pid is gone) from one in use.
PG_PREFIX = "claims_load_"

EVENT_BODIES = """
    SELECT e.body FROM claims_auditevent e
    JOIN claims_auditchain c ON c.id = e.chain_id
    JOIN claims_project p ON p.id = c.project_id
    WHERE p.slug = %s
"""
VERDICT_ROW = """
    SELECT v.status, v.rationale, v.as_of, v.version FROM claims_verdict v
    JOIN auth_user u ON u.id = v.analyst_id
    WHERE v.claim_id = %s AND u.username = %s
"""


class Database:
    """A database under test, read directly (not through the app) for the checks."""

    env: dict[str, str]

    def rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def event_ops(self) -> Counter[str]:
        """How many events of the project's chain carry each client operation id."""
        ops: Counter[str] = Counter()
        for (body,) in self.rows(EVENT_BODIES, (PROJECT,)):
            op = json.loads(body).get("op")
            if op is not None:
                ops[op] += 1
        return ops

    def verdict(self, claim_id: int, username: str) -> tuple[Any, ...] | None:
        found = self.rows(VERDICT_ROW, (claim_id, username))
        return found[0] if found else None

    def evidence_titled(self, title: str) -> int:
        return self.rows("SELECT count(*) FROM claims_evidence WHERE title = %s", (title,))[0][0]


def pg_admin(statement: sql.Composable) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=10) as conn:
        conn.execute(statement)


class Postgres(Database):
    def __init__(self, name: str) -> None:
        self.name = name
        self.url = f"postgres://postgres@127.0.0.1:5432/{name}"
        self.env = {"DATABASE_URL": self.url}

    @classmethod
    def create(cls, name: str, template: str | None = None) -> Postgres:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        deadline = time.monotonic() + 30
        while True:
            try:
                pg_admin(statement)
                return cls(name)
            except psycopg.errors.ObjectInUse:
                # The template's last server has stopped, but its backends can take a
                # moment to go away.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def drop(self) -> None:
        pg_admin(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
        )

    def rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
            cursor = conn.execute(query, params)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    def open_transactions(self) -> int:
        """Backends of the app that hold a transaction open (a paused write)."""
        query = (
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = %s AND state = 'idle in transaction'"
        )
        return self.rows(query, (self.name,))[0][0]


def drop_stale_databases() -> None:
    """Drop databases left by an earlier run of this harness that was killed."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=10) as conn:
        names = [
            name
            for (name,) in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (PG_PREFIX + "%",)
            )
        ]
    for name in names:
        pid = name[len(PG_PREFIX) :].split("_")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not Path(f"/proc/{pid}").exists():
            Postgres(name).drop()


class SQLite(Database):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.env = {"SQLITE_PATH": str(path)}

    def copy_to(self, path: Path) -> SQLite:
        """A consistent copy (the backup API folds in the write-ahead log)."""
        with (
            contextlib.closing(sqlite3.connect(self.path)) as source,
            contextlib.closing(sqlite3.connect(path)) as target,
        ):
            source.backup(target)
        return SQLite(path)

    def rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(self.path, timeout=30)) as conn, conn:
            return conn.execute(query.replace("%s", "?"), params).fetchall()

    def page_count(self) -> int:
        return self.rows("PRAGMA page_count")[0][0]

    def drop(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


def pg_cluster_restart() -> None:
    """One restart of the local PostgreSQL cluster (kills every connection to it)."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        timeout=120,
        capture_output=True,
    )
