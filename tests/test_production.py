"""Production settings, security headers, the health check, operation ids and denied logs."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from claims.models import AuditEvent

ROOT = Path(__file__).resolve().parent.parent


def production_env(**extra: str) -> dict[str, str]:
    # Not DEBUG, and not the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE (a deploy-check error).
    dropped = ("DEBUG", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    return (
        env
        | {"SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "claims.example.org"}
        | {"CLAIMS_ENV_FILE": os.devnull}  # not a development .env that `make demo` wrote
        | extra
    )


def python(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """This Python run in the checkout, by default with production settings."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=production_env() if env is None else env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_settings_pass_the_deploy_check() -> None:
    result = python("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = production_env()
    del env["SECRET_KEY"]
    result = python("manage.py", "check", env=env)
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_the_wsgi_module_loads_the_urls_and_templates_before_any_request() -> None:
    """gunicorn loads ``claims.wsgi`` once, before it forks its workers: what that loads is
    shared by them and costs no request. The URLs (with the API's schemas) took half a
    second of each worker's first request, and each template its first render."""
    script = """
import json, sys
import claims.wsgi
from django.template import engines
from django.urls import get_resolver
loader = engines["django"].engine.template_loaders[0]
print(json.dumps({
    "api": "claims.api.v1" in sys.modules,
    "reverse": bool(get_resolver()._reverse_dict),
    "templates": sorted(key.split("#")[0] for key in loader.get_template_cache),
}))
"""
    result = python("-c", script)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["api"] and loaded["reverse"]
    ours = sorted(
        str(path.relative_to(ROOT / "templates")) for path in (ROOT / "templates").rglob("*.html")
    )
    assert set(ours) <= set(loaded["templates"])


def test_security_headers_on_every_page(db: Any) -> None:
    response = Client().get(reverse("login"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_health_check_reports_the_database_and_static_files(db: Any) -> None:
    response = Client().get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up", "static": "ok"}


def test_operation_id_is_recorded_in_the_event(claim: Any, bob: Any) -> None:
    client = Client()
    client.force_login(bob)
    data = {"status": "supported", "rationale": "", "as_of": "", "version": 0}
    client.post(
        reverse("claim-verdict", args=["demo", claim.pk]), data, HTTP_X_OPERATION_ID="op-bob-0001"
    )
    assert json.loads(AuditEvent.objects.latest("seq").body)["op"] == "op-bob-0001"


def test_a_malformed_operation_id_is_ignored(claim: Any, bob: Any) -> None:
    client = Client()
    client.force_login(bob)
    data = {"status": "supported", "rationale": "", "as_of": "", "version": 0}
    client.post(
        reverse("claim-verdict", args=["demo", claim.pk]), data, HTTP_X_OPERATION_ID="bad id\n"
    )
    assert "op" not in json.loads(AuditEvent.objects.latest("seq").body)


def test_denied_requests_are_logged_with_control_characters_escaped(
    project: Any, mallory: Any, caplog: Any
) -> None:
    client = Client()
    client.force_login(mallory)
    with caplog.at_level("WARNING", logger="claims.denied"):
        client.get("/p/demo/?token=secret-value")
        client.get("/p/demo%0Aforged/")
    lines = [r.getMessage() for r in caplog.records if r.name == "claims.denied"]
    assert any("status=404 user=mallory method=GET path=/p/demo/" in line for line in lines)
    assert all("secret-value" not in line for line in lines)
    assert all("\n" not in line for line in lines)
    assert any("\\x0a" in line for line in lines)


def test_posts_without_a_csrf_token_are_refused_and_change_nothing(claim: Any, bob: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(bob)
    before = AuditEvent.objects.count()
    url = reverse("claim-verdict", args=["demo", claim.pk])
    data = {"status": "supported", "rationale": "", "as_of": "", "version": 0}
    assert client.post(url, data).status_code == 403
    assert client.post(url, data, HTTP_HX_REQUEST="true").status_code == 403
    assert client.post(url, data, HTTP_X_CSRFTOKEN="forged-token-value").status_code == 403
    assert AuditEvent.objects.count() == before


def test_htmx_posts_with_the_page_token_are_accepted(claim: Any, bob: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(bob)
    page = client.get(reverse("article-detail", args=["demo", claim.article_id]))
    token = page.content.decode().split('"X-CSRFToken": "')[1].split('"')[0]
    response = client.post(
        reverse("claim-verdict", args=["demo", claim.pk]),
        {"status": "supported", "rationale": "", "as_of": "", "version": 0},
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200
    assert json.loads(AuditEvent.objects.latest("seq").body)["action"] == "verdict.set"


def test_cross_site_login_posts_are_refused(project: Any, bob: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "bob", "password": "bob-pw"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
)


@pytest.mark.parametrize("ssl_redirect", [False, True])
def test_the_bad_host_page_carries_the_security_headers(
    db: Any, settings: Any, ssl_redirect: bool
) -> None:
    # With the HTTPS redirect on, SecurityMiddleware itself asks for the host and refuses
    # it before any middleware could add a header.
    settings.SECURE_SSL_REDIRECT = ssl_redirect
    response = Client(HTTP_HOST="evil.example").get("/")
    assert response.status_code == 400
    for header in SECURITY_HEADERS:
        assert header in response.headers, header
    assert response.headers["X-Frame-Options"] == "DENY"


def test_read_only_pages_answer_head(claim: Any, bob: Any) -> None:
    client = Client()
    client.force_login(bob)
    for url in (
        reverse("project-list"),
        reverse("project-detail", args=["demo"]),
        reverse("article-detail", args=["demo", claim.article_id]),
        reverse("article-consensus", args=["demo", claim.article_id]),
        reverse("claim-panel", args=["demo", claim.pk]),
        reverse("claim-history", args=["demo", claim.pk]),
        reverse("project-activity", args=["demo"]),
        reverse("queue", args=["demo"]),
        reverse("healthz"),
    ):
        get, head = client.get(url), client.head(url)
        assert get.status_code in (200, 302), url
        assert head.status_code == get.status_code, url
        assert head.content == b"", url


def test_database_url_options_reach_the_driver() -> None:
    from claims.settings import database_from_url

    config = database_from_url(
        "postgres://us%40er:p%3Ass@db.example:6543/claims_x?sslmode=require&connect_timeout=5"
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"]) == ("us@er", "p:ss")
    assert (config["HOST"], int(config["PORT"]), config["NAME"]) == ("db.example", 6543, "claims_x")
    options = dict(config["OPTIONS"])
    assert options.pop("pool")["min_size"] == 1  # connections from a pool, none persistent
    assert config["CONN_MAX_AGE"] == 0
    assert options.pop("server_side_binding") is True  # and prepared statements:
    assert options.pop("prepare_threshold") == 5
    assert options == {"sslmode": "require", "connect_timeout": 5}


def test_a_database_url_of_another_kind_is_refused() -> None:
    from django.core.exceptions import ImproperlyConfigured

    from claims.settings import database_from_url

    with pytest.raises(ImproperlyConfigured, match="must start with postgres://"):
        database_from_url("mysql://root@localhost/claims")


BEHIND_A_PROXY = """
import json

import django

django.setup()
from django.test import Client

client, host = Client(), {"HTTP_HOST": "claims.example.org"}
answers = {
    "direct": client.get("/", **host),
    "forwarded": client.get("/", HTTP_X_FORWARDED_PROTO="https", **host),
    "forged": client.get("/", HTTP_X_FORWARDED_PROTO="http", **host),
    "health": client.get("/healthz", **host),
}
print(json.dumps({
    name: [r.status_code, r.get("Location", ""), r.get("Strict-Transport-Security", "")]
    for name, r in answers.items()
}))
"""


def test_plain_http_on_loopback_behind_a_tls_proxy(tmp_path: Path) -> None:
    """The README's set-up: gunicorn serves plain HTTP on 127.0.0.1, the proxy terminates
    TLS and says so in X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER=1). Requests it forwards
    are HTTPS to the app (no redirect, HSTS sent); one that reaches the app without it is
    sent to HTTPS; the health check answers over plain HTTP."""
    env = production_env(SECURE_PROXY_SSL_HEADER="1", SQLITE_PATH=str(tmp_path / "db.sqlite3"))
    env["DJANGO_SETTINGS_MODULE"] = "claims.settings"
    result = python("-c", BEHIND_A_PROXY, env=env)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers["direct"][:2] == [301, "https://claims.example.org/"]
    assert answers["forged"][:2] == [301, "https://claims.example.org/"]
    status, location, hsts = answers["forwarded"]
    assert (status, location) == (302, "/login/?next=/")
    assert hsts.startswith("max-age=31536000")
    assert answers["health"][0] in (200, 503) and answers["health"][1] == ""
