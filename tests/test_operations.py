"""Setting up and running: the password hasher, the development .env, quiet expected 403s,
a health check that knows about static files, and users created from scripts."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from claims.models import Membership
from tests.base import client_for

ROOT = Path(__file__).resolve().parent.parent
REAL_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


def settings_value(name: str, **env: str) -> str:
    """``settings.<name>`` as a fresh process with ``env`` sees it."""
    dropped = ("DEBUG", "DATABASE_URL", "CLAIMS_ENV_FILE", "SECRET_KEY")
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    base["CLAIMS_ENV_FILE"] = os.devnull  # unless a test names one
    code = (
        f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=base | {"DJANGO_SETTINGS_MODULE": "claims.settings"} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


# Passwords -----------------------------------------------------------------------------


def test_new_passwords_are_hashed_with_argon2id(db: Any, settings: Any) -> None:
    settings.PASSWORD_HASHERS = REAL_HASHERS
    user = get_user_model().objects.create_user("erin", password="a long passphrase 42")
    assert user.password.startswith("argon2$argon2id$")
    assert (
        Client()
        .post(reverse("login"), {"username": "erin", "password": "a long passphrase 42"})
        .status_code
        == 302
    )


def test_an_old_pbkdf2_hash_still_logs_in_and_is_upgraded(db: Any, settings: Any) -> None:
    settings.PASSWORD_HASHERS = REAL_HASHERS
    old = make_password("an old passphrase 42", hasher="pbkdf2_sha256")
    get_user_model().objects.create(username="olga", password=old)
    response = Client().post(
        reverse("login"), {"username": "olga", "password": "an old passphrase 42"}
    )
    assert response.status_code == 302
    assert get_user_model().objects.get(username="olga").password.startswith("argon2$")


def test_the_configured_hashers_put_argon2_first() -> None:
    hashers = settings_value("PASSWORD_HASHERS", DEBUG="1")
    assert hashers.index("Argon2PasswordHasher") < hashers.index("PBKDF2PasswordHasher")


# The development .env ------------------------------------------------------------------


def test_settings_read_the_env_file_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=1\nLOG_LEVEL=WARNING\n")
    assert settings_value("DEBUG", CLAIMS_ENV_FILE=str(env_file)) == "True"
    assert (
        settings_value("LOGGING['loggers']['claims']['level']", CLAIMS_ENV_FILE=str(env_file))
        == "WARNING"
    )
    assert (
        settings_value(
            "LOGGING['loggers']['claims']['level']",
            CLAIMS_ENV_FILE=str(env_file),
            LOG_LEVEL="ERROR",
        )
        == "ERROR"
    )


def test_the_demo_writes_an_env_file_once(tmp_path: Path) -> None:
    from claims.management.commands.demo import write_env_file

    env_file = tmp_path / ".env"
    assert write_env_file(env_file) is True
    assert "DEBUG=1" in env_file.read_text()
    env_file.write_text("DEBUG=1\nMINE=kept\n")
    assert write_env_file(env_file) is False
    assert "MINE=kept" in env_file.read_text()


# Logs ----------------------------------------------------------------------------------


def test_an_expected_403_logs_no_traceback(project: Any, victor: Any, caplog: Any) -> None:
    caplog.set_level(logging.WARNING, logger="django.request")
    response = client_for(victor).get(reverse("article-import", args=["demo"]))
    assert response.status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records, "the 403 is still logged"
    assert all(r.exc_info is None for r in records)


# Health --------------------------------------------------------------------------------


def test_health_fails_when_static_files_were_never_collected(
    db: Any, settings: Any, tmp_path: Path
) -> None:
    # Changing these settings makes Django build the static files storage anew.
    settings.STATIC_ROOT = tmp_path / "never-collected"
    settings.STORAGES = settings.STORAGES | {
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
    }
    response = Client().get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["static"] == "not collected"


def test_health_is_ok_with_the_development_storage(db: Any) -> None:
    response = Client().get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up", "static": "ok"}


# Users from scripts ----------------------------------------------------------------------


def test_add_member_reads_a_new_users_password_from_stdin(project: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long passphrase 42\n"))
    out = io.StringIO()
    call_command("add_member", "demo", "erin", "--role", "analyst", "--password-stdin", stdout=out)
    erin = get_user_model().objects.get(username="erin")
    assert erin.check_password("a long passphrase 42")
    assert "a long passphrase 42" not in out.getvalue()
    assert Membership.objects.filter(project=project, user=erin, role="analyst").exists()


def test_a_weak_password_from_stdin_is_refused_and_nothing_is_made(
    project: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("123\n"))
    with pytest.raises(CommandError, match="too short"):
        call_command("add_member", "demo", "erin", "--password-stdin", stdout=io.StringIO())
    assert not get_user_model().objects.filter(username="erin").exists()


def test_add_member_prints_a_one_time_set_password_link(project: Any) -> None:
    out = io.StringIO()
    call_command(
        "add_member", "demo", "erin", "--link", "--base-url", "https://c.example", stdout=out
    )
    link = re.search(r"https://c\.example(/\S+)", out.getvalue())
    assert link, out.getvalue()
    erin = get_user_model().objects.get(username="erin")
    assert not erin.has_usable_password()
    client = Client()
    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200
    data = {"new_password1": "a long passphrase 42", "new_password2": "a long passphrase 42"}
    done = client.post(form.redirect_chain[-1][0] if form.redirect_chain else link.group(1), data)
    assert done.status_code == 302
    erin.refresh_from_db()
    assert erin.check_password("a long passphrase 42")
    # One time only: the same link no longer works.
    again = Client().get(link.group(1), follow=True)
    assert "invalid" in again.content.decode().lower()
    assert (
        Client()
        .post(reverse("login"), {"username": "erin", "password": "a long passphrase 42"})
        .status_code
        == 302
    )
