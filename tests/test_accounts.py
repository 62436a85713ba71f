"""Accounts: login throttling by user and by address, password change, safe redirects."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone


def attempt(client: Client, username: str, password: str, **headers: Any) -> Any:
    return client.post(reverse("login"), {"username": username, "password": password}, **headers)


def test_five_wrong_passwords_lock_the_account(project: Any, bob: Any) -> None:
    client = Client()
    for _ in range(5):
        attempt(client, "bob", "wrong")
    response = attempt(Client(REMOTE_ADDR="10.9.9.9"), "bob", "bob-pw")
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()


def test_the_address_is_locked_too(project: Any, bob: Any, carol: Any) -> None:
    client = Client(REMOTE_ADDR="192.0.2.7")
    for name in ("u1", "u2", "u3", "u4", "u5"):
        attempt(client, name, "guess")
    assert attempt(client, "carol", "carol-pw").status_code == 429
    assert attempt(Client(REMOTE_ADDR="192.0.2.8"), "carol", "carol-pw").status_code == 302


def test_a_forged_forwarded_for_does_not_escape_the_lock(
    project: Any, bob: Any, settings: Any
) -> None:
    settings.CLAIMS_PROXY_COUNT = 1
    proxy_saw = "198.51.100.4"
    for i in range(5):
        forged = f"203.0.113.{i}, {proxy_saw}"
        attempt(Client(REMOTE_ADDR="10.0.0.1"), f"user{i}", "x", HTTP_X_FORWARDED_FOR=forged)
    response = attempt(
        Client(REMOTE_ADDR="10.0.0.1"),
        "bob",
        "bob-pw",
        HTTP_X_FORWARDED_FOR=f"203.0.113.99, {proxy_saw}",
    )
    assert response.status_code == 429


def test_success_resets_the_failure_count(project: Any, bob: Any) -> None:
    client = Client()
    for _ in range(4):
        attempt(client, "bob", "wrong")
    assert attempt(client, "bob", "bob-pw").status_code == 302
    client.logout()
    for _ in range(4):
        attempt(client, "bob", "wrong")
    assert attempt(client, "bob", "bob-pw").status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "https:evil.example",
        "javascript:alert(1)",
    ],
)
def test_login_next_cannot_leave_the_site(project: Any, bob: Any, target: str) -> None:
    response = Client().post(
        reverse("login") + "?next=" + target,
        {"username": "bob", "password": "bob-pw", "next": target},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("project-list")


def test_login_next_within_the_site_is_kept(project: Any, bob: Any) -> None:
    response = Client().post(
        reverse("login"), {"username": "bob", "password": "bob-pw", "next": "/p/demo/"}
    )
    assert response["Location"] == "/p/demo/"


def test_password_change(project: Any, bob: Any) -> None:
    client = Client()
    client.force_login(bob)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "bob-pw",
            "new_password1": "a much longer passphrase 42",
            "new_password2": "a much longer passphrase 42",
        },
    )
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.check_password("a much longer passphrase 42")


def test_password_change_refuses_a_wrong_old_password(project: Any, bob: Any) -> None:
    client = Client()
    client.force_login(bob)
    response = client.post(
        reverse("password_change"),
        {"old_password": "nope", "new_password1": "x" * 20, "new_password2": "x" * 20},
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    bob.refresh_from_db()
    assert bob.check_password("bob-pw")


def test_an_attackers_own_logins_do_not_lift_the_victims_lock(
    project: Any, bob: Any, mallory: Any
) -> None:
    """Wrong guesses for bob interleaved with mallory's own successful logins from the
    same address: each success may reset only mallory's record, never bob's."""
    attacker = Client(REMOTE_ADDR="203.0.113.66")
    for _ in range(5):
        for _ in range(4):
            attempt(attacker, "bob", "guess")
        attempt(attacker, "mallory", "mallory-pw")
        attacker.logout()
    assert attempt(attacker, "bob", "bob-pw").status_code == 429
    assert attempt(Client(REMOTE_ADDR="198.51.100.1"), "bob", "bob-pw").status_code == 429

    # The lock expires on its own: after the cool-off the right password works again.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=1)
    )
    assert attempt(Client(REMOTE_ADDR="198.51.100.1"), "bob", "bob-pw").status_code == 302


def test_a_success_resets_only_that_accounts_record(project: Any, bob: Any, carol: Any) -> None:
    client = Client(REMOTE_ADDR="192.0.2.50")
    for _ in range(2):
        attempt(client, "bob", "wrong")
        attempt(client, "carol", "wrong")
    assert attempt(client, "carol", "carol-pw").status_code == 302
    assert not AccessAttempt.objects.filter(username="carol").exists()
    assert AccessAttempt.objects.get(username="bob").failures_since_start == 2
