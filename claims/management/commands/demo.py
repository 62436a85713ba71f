"""python manage.py demo: migrate, create the demo project and users, import seeds/, serve."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from claims.importer import import_article
from claims.models import Project, Role
from claims.tasks import recover

SEEDS_DIR = settings.BASE_DIR / "seeds"
DEMO_SLUG = "russia-china"
# Local demo accounts only: the passwords are printed and the same on every machine.
DEMO_USERS = [
    ("alice", Role.ADMIN),
    ("bob", Role.ANALYST),
    ("carol", Role.ANALYST),
    ("rita", Role.REVIEWER),
    ("victor", Role.VIEWER),
]
NAMES = [name for name, _role in DEMO_USERS]


ENV_FILE_TEXT = """\
# Written by `manage.py demo` for local development: settings read it, so a plain
# `manage.py runserver` works after `make demo`. The environment wins over this file.
DEBUG=1
"""


def write_env_file(path: Path) -> bool:
    """Write the development .env unless one exists (it is the person's then)."""
    if path.exists():
        return False
    path.write_text(ENV_FILE_TEXT)
    return True


def demo_password(username: str) -> str:
    return f"{username}-demo"


class Command(BaseCommand):
    help = "Set up the demo (idempotent) and serve it at http://127.0.0.1:8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="set up, then exit")
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        env_file = Path(os.environ.get("CLAIMS_ENV_FILE") or settings.BASE_DIR / ".env")
        if settings.DEBUG and write_env_file(env_file):
            self.stdout.write(f"Wrote {env_file} (DEBUG=1), so a plain runserver works too.")
        call_command("migrate", interactive=False, verbosity=0)
        users = self.users()
        project = Project.objects.filter(slug=DEMO_SLUG).first()
        if project is None:
            project = Project.create(
                DEMO_SLUG, "Russia–China relations", admin=users["alice"], min_verdicts=2
            )
        for username, role in DEMO_USERS:
            project.set_member(users[username], role, actor=users["alice"])
        # alice is also the site's administrator: she may create projects in the browser.
        users["alice"].user_permissions.add(
            Permission.objects.get_by_natural_key("add_project", "claims", "project")
        )
        for meta_path in sorted(SEEDS_DIR.glob("*.json")):
            self.import_seed(project, meta_path, users["alice"])
        self.stdout.write("\nDemo users (local use only):")
        for username, role in DEMO_USERS:
            self.stdout.write(
                f"  {username:<7} {role.label:<9} password: {demo_password(username)}"
            )
        if not options["no_serve"]:
            self.stdout.write(f"\nServing on http://{options['addrport']}/  (Ctrl-C stops)\n")
            with self.worker():
                call_command("runserver", options["addrport"], use_reloader=False)

    @contextmanager
    def worker(self) -> Iterator[None]:
        """The background worker (imports, webhooks) beside the server, stopped with it."""
        recover()  # jobs a killed demo left running
        worker = subprocess.Popen(
            [
                sys.executable,
                str(settings.BASE_DIR / "manage.py"),
                "db_worker",
                "--no-reload",
                "--verbosity",
                "0",
            ],
            cwd=settings.BASE_DIR,
        )
        # A terminated demo stops its worker too: SIGTERM unwinds like Ctrl-C does.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            yield
        finally:
            worker.terminate()  # it finishes the task under way, then exits
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()

    def users(self) -> dict[str, Any]:
        User = get_user_model()
        users = {user.username: user for user in User.objects.filter(username__in=NAMES)}
        missing = [name for name in NAMES if name not in users]
        # Password hashing is most of a fresh set-up's time; hashlib lets threads share it
        # across cores (it releases the GIL).
        with ThreadPoolExecutor() as pool:
            hashes = pool.map(make_password, [demo_password(name) for name in missing])
        for username, hashed in zip(missing, hashes, strict=True):
            users[username] = User.objects.create_user(username)
            users[username].password = hashed
            users[username].save(update_fields=["password"])
        return users

    def import_seed(self, project: Project, meta_path: Any, actor: Any) -> None:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        data = (SEEDS_DIR / meta["file"]).read_bytes()
        article, created = import_article(
            project,
            data,
            filename=meta["file"],
            published_on=dt.date.fromisoformat(meta["published_on"]),
            actor=actor,
            title=meta.get("title", ""),
            author=meta.get("author", ""),
            publication=meta.get("publication", ""),
            publisher=meta.get("publisher", ""),
            volume=meta.get("volume"),
            issue=meta.get("issue"),
        )
        verb = "Imported" if created else "Already imported"
        self.stdout.write(
            f"{verb}: {article.title} ({article.claims.count()} claims, "
            f"{article.citations.count()} citations)"
        )
