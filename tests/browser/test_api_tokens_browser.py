"""API tokens in the browser: an analyst makes one (shown once), a script uses it, the
analyst revokes it; and the API's interactive docs load, under the site's
Content-Security-Policy, from nothing but the app itself."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from claims.models import ApiToken, Project


def api_get(live_server: Any, path: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{live_server.url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


@pytest.mark.browser
def test_an_analyst_makes_uses_and_revokes_a_token(
    login_as: Callable[[Any], Page], live_server: Any, project: Project, bob: Any
) -> None:
    page = login_as(bob)
    page.goto(f"/p/{project.slug}/")
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("nightly script")
    page.get_by_label("Role").select_option("analyst")
    page.get_by_label("Expires after (days)").fill("30")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#token-value").inner_text()
    assert secret.startswith("clm_")

    status, body = api_get(live_server, f"/projects/{project.slug}", secret)
    assert (status, body["role"]) == (200, "analyst")

    page.reload()  # shown once: not on the page any more
    expect(page.locator("#token-value")).to_have_count(0)
    token = ApiToken.objects.get()
    row = page.locator(f"#token-{token.pk}")
    expect(row).not_to_have_text("never")  # the script's use is recorded
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator(f"#token-{token.pk}")).to_contain_text("revoked")
    status, body = api_get(live_server, f"/projects/{project.slug}", secret)
    assert status == 401 and body["status"] == 401


@pytest.mark.browser
def test_the_api_docs_load_from_the_app_alone(
    login_as: Callable[[Any], Page], live_server: Any, project: Project, bob: Any
) -> None:
    page = login_as(bob)
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("claims API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert hosts == {urlsplit(live_server.url).netloc}
    assert not [p for p in problems if "Content Security Policy" in p], problems
