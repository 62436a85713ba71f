"""Browser tests: real Chromium, driven by Playwright, against pytest-django's live server.

One browser for the session, a fresh context (cookies, storage) per person per test.
Every test ends by recomputing the audit hash chain: whatever the browser did must have
left it intact.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import (
    Browser,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)

from claims.models import Article, Project
from tests.browser.screens import log_in
from tests.factories import make_sample_article
from tests.tampering import purge_audit_events

# Playwright's sync API runs an asyncio event loop in the main thread, and Django refuses
# ORM calls made from a thread with a running loop (SynchronousOnlyOperation). Fixtures
# and test bodies here query the database from that thread on purpose, between browser
# steps, never concurrently with them.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

FAILED = pytest.StashKey[bool]()
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
# Auto-waiting expectations give up after this long; the live server answers in
# milliseconds, so a longer wait would only hide a hang.
expect.set_options(timeout=5_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture(autouse=True)
def audit_chain_intact(transactional_db: Any) -> Iterator[None]:
    """After the test, and before the database is flushed, the hash chain verifies.

    Requesting ``transactional_db`` first also makes the people fixtures commit their
    rows, so that the live server's thread sees them.
    """
    yield
    try:
        call_command("verify_audit", stdout=StringIO())
    finally:
        # The database flush after a transactional test would hit the append-only
        # triggers: empty the event table first, with the triggers lifted.
        purge_audit_events()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture
def login_as(
    browser: Browser, live_server: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[[Any], Page]]:
    """``login_as(bob)``: a new browser context, logged in as that person, on one page.

    When the test fails, each person's page is saved as <test name>-failed-<n>.png.
    """
    pages: list[Page] = []

    def login(user: Any) -> Page:
        context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
        page = context.new_page()
        pages.append(page)
        log_in(page, user.get_username())
        return page

    yield login
    failed = request.node.stash.get(FAILED, False)
    for number, page in enumerate(pages, start=1):
        if failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{request.node.name}-failed-{number}.png")
        page.context.close()


@pytest.fixture
def without_javascript(browser: Browser, live_server: Any) -> Iterator[Page]:
    """A page with JavaScript turned off, not logged in: what works as links and forms."""
    context = browser.new_context(
        base_url=live_server.url, viewport=VIEWPORT, java_script_enabled=False
    )
    yield context.new_page()
    context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page], Path]:
    """Save the page as var/screenshots/<test name>.png, for a person to look at."""

    def save(page: Page) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{request.node.name}.png"
        page.screenshot(path=str(path), full_page=False)
        return path

    return save


@pytest.fixture
def sample_article(project: Project, alice: Any) -> Article:
    """The 100-claim sample article, imported by the admin."""
    return make_sample_article(project, actor=alice)
