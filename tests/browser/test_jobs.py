"""An admin imports a big text: the worker takes it, and the job's page follows it by
polling (htmx, every second) until it shows the imported article, then stops polling.
A link's job, done, links to the preview; its pages pass axe."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from claims import tasks
from claims.models import Job, JobStatus, Project
from tests.browser.screens import log_in
from tests.browser.test_axe import violations
from tests.factories import SAMPLE_PATH
from tests.webpages import ARTICLE_PAGE, serve
from tests.webpages import Page as WebPage


@pytest.mark.browser
def test_a_big_import_shows_its_progress_then_its_article(
    login_as: Callable[[Any], Page], project: Project, alice: Any, settings: Any
) -> None:
    settings.CLAIMS_IMPORT_BACKGROUND_BYTES = 1000
    page = login_as(alice)
    page.goto(f"/p/{project.slug}/import/")
    page.fill("#id_text", SAMPLE_PATH.read_text(encoding="utf-8"))
    page.fill("#id_published_on", "2021-10-22")
    page.fill("#id_title", "The big one")
    page.get_by_role("button", name="Preview").click()

    expect(page).to_have_url(re.compile(r"/p/demo/jobs/\d+/$"))
    job = Job.objects.get()
    status = page.locator("#job-status")
    expect(status.locator("progress")).to_be_visible()
    expect(status).to_contain_text("Waiting for the worker")
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "/jobs/" in r.url else None)

    tasks.run_import.call(job.pk)  # the worker's part, while the page polls
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    link = status.get_by_role("link", name="The big one")
    expect(link).to_be_visible()
    assert polls, "the page polled for the job's status"
    # Done: the fragment carries no trigger, so polling stops.
    expect(status).not_to_have_attribute("hx-trigger", "every 1s")
    link.click()
    expect(page.locator("#article-title")).to_have_text("The big one")


@pytest.mark.browser
def test_a_fetch_jobs_page_and_its_preview_pass_axe(
    browser: Browser, live_server: Any, project: Project, alice: Any, settings: Any
) -> None:
    """A link's job, done (with "Review the import"), its preview, and the preview of a
    job still fetching: no accessibility violation (axe-core, as tests/browser/test_axe.py)."""
    settings.CLAIMS_FETCH_ALLOW_PRIVATE = ["127.0.0.1/32"]
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    page = context.new_page()
    log_in(page, "alice")
    with serve({"/story": WebPage(ARTICLE_PAGE)}) as site:
        done = tasks.start_import(project, alice, None, url=site.url("/story"), preview=True)
        tasks.run_import.call(done.pk)
    waiting = tasks.start_import(project, alice, None, url=site.url("/story"), preview=True)
    try:
        for path in [
            f"/p/{project.slug}/jobs/{done.pk}/",
            f"/p/{project.slug}/import/?job={done.pk}",
            f"/p/{project.slug}/import/?job={waiting.pk}",
        ]:
            assert violations(page, path) == [], path
        expect(page.locator("#fetch-job")).to_contain_text("still being fetched")
    finally:
        context.close()
