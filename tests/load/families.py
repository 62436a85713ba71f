"""Prepared databases ("families"): the demo project, 16 analysts and their logged-in
sessions, made once per test session and copied for each test.

Both kinds are prepared at once. The analysts log in for real (login form, CSRF cookie,
POST) on the first kind; the other kind holds the very same users (ids, names, password
hash), so their session rows are copied to it instead of paying 16 more logins (each one
costs a second of password hashing on this machine).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.load.databases import (
    PG_PREFIX,
    PROJECT,
    Database,
    Postgres,
    SQLite,
    drop_stale_databases,
)
from tests.load.harness import ANALYSTS, Client, Server, app_env, manage

PREPARE_TIMEOUT = 600

MAKE_ANALYSTS = """
import json, os
from django.contrib.auth import get_user_model
from claims.models import Claim, Project, Role

project = Project.objects.get(slug=os.environ["LOAD_PROJECT"])
for name in os.environ["LOAD_ANALYSTS"].split(","):
    user = get_user_model().objects.create(username=name, password=os.environ["LOAD_HASH"])
    project.set_member(user, Role.ANALYST, actor=None)
claims = Claim.objects.filter(article__project=project)
print(json.dumps({
    "articles": sorted(set(claims.values_list("article_id", flat=True))),
    "claims": sorted(claims.values_list("pk", flat=True)),
}))
"""
HASH_PASSWORD = (
    "import os; from django.contrib.auth.hashers import make_password; "
    "print(make_password(os.environ['LOAD_PASSWORD']))"
)


def password_hash(env: dict[str, str], password: str) -> str:
    """The analysts' one password hash, made by the app's own hasher. Shared by every
    analyst and both databases: each hash costs a second, and identical hashes let a
    session made by logging in on one database be valid on the other."""
    out = manage(env | {"LOAD_PASSWORD": password}, "shell", "-c", HASH_PASSWORD)
    return out.strip().splitlines()[-1]


@dataclass
class Family:
    """A prepared database that each test copies: the demo project, 16 analysts, and
    each analyst's logged-in session (cookies)."""

    env: dict[str, str]  # the app's environment, without a database
    template: Database
    articles: list[int]
    claims: list[int]
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)

    def clients(self, port: int, count: int = len(ANALYSTS)) -> list[Client]:
        return [
            Client(port, name, self.cookies[name], seed=i)
            for i, name in enumerate(ANALYSTS[:count])
        ]


def prepare(env: dict[str, str], template: Database, hashed: str) -> Family:
    """``manage.py demo --no-serve`` (migrate, demo project and users, 100-claim import),
    then the 16 analysts."""
    db_env = env | template.env
    manage(db_env, "demo", "--no-serve")
    extra = {"LOAD_PROJECT": PROJECT, "LOAD_HASH": hashed, "LOAD_ANALYSTS": ",".join(ANALYSTS)}
    out = manage(db_env | extra, "shell", "-c", MAKE_ANALYSTS)
    ids = json.loads(out.strip().splitlines()[-1])
    return Family(env, template, ids["articles"], ids["claims"])


def log_in_all(family: Family, password: str, log: Path) -> None:
    """A real login (form, CSRF cookie, POST) for each analyst, concurrently."""
    with Server(family.env | family.template.env, log) as server:
        # Sixteen logins queue for two cores of password hashing: allow them time.
        clients = [Client(server.port, name, timeout=120) for name in ANALYSTS]
        threads = [threading.Thread(target=c.login, args=(password,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=150)
        for client in clients:
            client.close()
            if "sessionid" not in client.cookies:
                raise RuntimeError(f"{client.username} has no session:\n{server.log_tail()}")
            family.cookies[client.username] = client.cookies


USERS = "SELECT id, username, password FROM auth_user ORDER BY id"
SESSIONS = "SELECT session_key, session_data, expire_date FROM django_session"


def analysts(db: Database) -> list[tuple[Any, ...]]:
    return [row for row in db.rows(USERS) if row[1] in ANALYSTS]


def copy_sessions(source: Family, target: Family) -> bool:
    """Make the sessions of ``source``'s logins valid on ``target`` too: the same rows in
    its session table. Only when both hold the very same users (ids, names and password
    hashes), which a session names and is checked against; False otherwise."""
    if analysts(source.template) != analysts(target.template):
        return False
    for key, data, expires in source.template.rows(SESSIONS):
        if isinstance(expires, str):  # SQLite keeps naive UTC text
            expires = dt.datetime.fromisoformat(expires).replace(tzinfo=dt.UTC)
        if isinstance(target.template, SQLite):
            expires = expires.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
        target.template.rows(
            "INSERT INTO django_session (session_key, session_data, expire_date) "
            "VALUES (%s, %s, %s)",
            (key, data, expires),
        )
    target.cookies = {name: dict(cookies) for name, cookies in source.cookies.items()}
    return True


class Preparation:
    """Prepares the kinds a test session needs, concurrently, each once."""

    def __init__(self, root: Path, wanted: list[str]) -> None:
        self.root = root
        # With DEBUG off, pages name their static files through collectstatic's manifest.
        self.env = app_env(SECRET_KEY=secrets.token_urlsafe(50), CLAIMS_VAR_DIR=str(root / "var"))
        manage(self.env, "collectstatic", "--noinput", "--verbosity", "0")
        self.password = secrets.token_urlsafe(18)
        self.hashed = password_hash(self.env, self.password)
        self.templates: dict[str, Database] = {
            "sqlite": SQLite(root / "template.sqlite3"),
            "postgres": Postgres(f"{PG_PREFIX}{os.getpid()}_template"),
        }
        self.first = wanted[0] if wanted else "sqlite"
        self.logged_in: Future[Family] = Future()
        self.pool = ThreadPoolExecutor(max_workers=2)
        self.futures: dict[str, Future[Family]] = {}
        for kind in wanted:
            self.start(kind)

    def start(self, kind: str) -> None:
        if kind not in self.futures:
            self.futures[kind] = self.pool.submit(self.build, kind)

    def get(self, kind: str) -> Family:
        self.start(kind)
        return self.futures[kind].result(timeout=PREPARE_TIMEOUT)

    def build(self, kind: str) -> Family:
        template = self.templates[kind]
        leads = kind == self.first or self.first not in self.futures
        try:
            if isinstance(template, Postgres):
                drop_stale_databases()
                Postgres.create(template.name)
            family = prepare(self.env, template, self.hashed)
            if not leads and self.follow(family):
                return family
            log_in_all(family, self.password, self.root / f"{kind}-login.log")
        except BaseException as error:
            if leads and not self.logged_in.done():
                self.logged_in.set_exception(error)
            raise
        if leads and not self.logged_in.done():
            self.logged_in.set_result(family)
        return family

    def follow(self, family: Family) -> bool:
        """Take the sessions of the kind that logged in; False if it could not."""
        try:
            source = self.logged_in.result(timeout=PREPARE_TIMEOUT)
        except Exception:
            return False  # the other kind failed: log in here instead
        return copy_sessions(source, family)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        pg = self.templates["postgres"]
        if "postgres" in self.futures and isinstance(pg, Postgres):
            pg.drop()
