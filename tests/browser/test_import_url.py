"""An admin imports an article from a link, and from a PDF, in the browser.

A link is fetched by the worker: the tests do its part (``tasks.run_import.call``) while
the job's page polls, then follow it to the preview and confirm."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from playwright.sync_api import Page, expect

from claims import tasks
from claims.models import Article, AuditEvent, Job, Project
from tests.browser.screens import log_in
from tests.pdfs import Line, paragraph, pdf
from tests.webpages import ARTICLE_PAGE, Served, serve
from tests.webpages import Page as WebPage

TITLE = "Harbour dredging doubled the port's traffic"
# Opened by a test to let the page at /held answer: until then the fetch is under way.
HELD = threading.Event()


def held(handler: BaseHTTPRequestHandler) -> None:
    HELD.wait(timeout=10)
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", str(len(ARTICLE_PAGE)))
    handler.end_headers()
    handler.wfile.write(ARTICLE_PAGE)


@pytest.fixture
def site(settings: Any) -> Iterator[Served]:
    settings.CLAIMS_FETCH_ALLOW_PRIVATE = ["127.0.0.1/32"]
    HELD.clear()
    with serve({"/story": WebPage(ARTICLE_PAGE), "/held": WebPage(held)}) as server:
        yield server
    HELD.set()


def work_in_background(job: Job) -> threading.Thread:
    """The worker's part, in a thread of its own while the browser polls the job's page."""

    def run() -> None:
        try:
            tasks.run_import.call(job.pk)
        finally:
            connection.close()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    return worker


@pytest.mark.browser
def test_admin_imports_an_article_from_a_link(
    login_as: Callable[[Any], Page],
    screenshot: Callable[[Page], Path],
    project: Project,
    alice: Any,
    site: Served,
) -> None:
    page = login_as(alice)
    page.goto(f"/p/{project.slug}/import/")
    page.get_by_label("From a link").fill(site.url("/held"))
    page.get_by_role("button", name="Preview").click()

    # The request only starts the fetch: the page goes to the job's, which polls.
    expect(page).to_have_url(re.compile(r"/p/demo/jobs/\d+/$"))
    status = page.locator("#job-status")
    expect(status.locator("progress")).to_be_visible()
    assert site.requests == []
    job = Job.objects.get()
    worker = work_in_background(job)
    expect(status).to_contain_text("Fetching the page …")
    HELD.set()  # the page answers
    review = status.get_by_role("link", name="Review the import")
    expect(review).to_be_visible()
    worker.join(timeout=10)
    expect(status).to_contain_text("Nothing is imported until you have reviewed it")
    assert not Article.objects.exists()
    review.click()

    expect(page).to_have_url(re.compile(rf"/p/demo/import/\?job={job.pk}$"))
    preview = page.locator("section[aria-labelledby=preview-h]")
    expect(preview.locator("p.found")).to_contain_text("Dana Whitfield")
    expect(page.locator("#id_title")).to_have_value(TITLE)
    expect(page.locator("#id_published_on")).to_have_value("2024-03-05")
    expect(page.locator("#id_source_url")).to_have_value(site.url("/held"))
    expect(preview.locator("ol > li").first).to_contain_text("container traffic doubled")
    assert not Article.objects.exists(), "the preview must not store anything"
    screenshot(page)

    # Changing a field and previewing again uses the fetched page: no second fetch.
    page.locator("#id_author").fill("D. Whitfield")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("p.found")).to_contain_text("Dana Whitfield")
    expect(page.locator("#id_author")).to_have_value("D. Whitfield")
    assert len(site.requests) == 1

    preview.get_by_role("button", name=re.compile(r"^Import \d+ claims")).click()
    expect(page).to_have_url(re.compile(r"/p/demo/a/\d+/$"))
    expect(page.locator("#article-title")).to_have_text(TITLE)
    expect(page.locator("p.source a")).to_have_attribute("href", site.url("/held"))
    expect(page.locator("p.source")).to_contain_text("fetched")
    article = Article.objects.get()
    assert article.fetched_at is not None and article.author == "D. Whitfield"
    assert AuditEvent.objects.filter(action="article.imported", actor=alice).count() == 1
    job.refresh_from_db()
    assert job.payload is None  # imported: the job keeps no copy of the page


@pytest.mark.browser
def test_a_link_is_imported_without_javascript(
    without_javascript: Page, project: Project, alice: Any, site: Served
) -> None:
    page = without_javascript
    log_in(page, "alice")
    page.goto(f"/p/{project.slug}/import/")
    page.get_by_label("From a link").fill(site.url("/story"))
    page.get_by_role("button", name="Preview").click()

    expect(page).to_have_url(re.compile(r"/p/demo/jobs/\d+/$"))
    refresh = page.get_by_role("link", name="Refresh")
    expect(refresh).to_be_visible()
    tasks.run_import.call(Job.objects.get().pk)
    refresh.click()
    page.get_by_role("link", name="Review the import").click()
    expect(page.locator("#id_title")).to_have_value(TITLE)
    page.get_by_role("button", name=re.compile(r"^Import \d+ claims")).click()
    expect(page).to_have_url(re.compile(r"/p/demo/a/\d+/$"))
    assert Article.objects.get().source_url == site.url("/story")


@pytest.mark.browser
def test_a_link_that_cannot_be_fetched_says_why_on_its_job_page(
    login_as: Callable[[Any], Page], project: Project, alice: Any, site: Served
) -> None:
    page = login_as(alice)
    page.goto(f"/p/{project.slug}/import/")
    page.get_by_label("From a link").fill(site.url("/gone"))
    page.get_by_role("button", name="Preview").click()
    expect(page).to_have_url(re.compile(r"/p/demo/jobs/\d+/$"))
    tasks.run_import.call(Job.objects.get().pk)
    status = page.locator("#job-status")
    expect(status.get_by_role("alert")).to_have_text("The page answered 404 Not Found.")
    status.get_by_role("link", name="Import again").click()
    expect(page.get_by_label("From a link")).to_be_visible()
    assert not Article.objects.exists()


@pytest.mark.browser
def test_admin_imports_a_pdf(
    login_as: Callable[[Any], Page], project: Project, alice: Any, tmp_path: Path
) -> None:
    path = tmp_path / "report.pdf"
    lines = [
        Line(72, 760, "Harbour report", 20),
        *paragraph(72, 720, ["Published: 5 March 2024"]),
        *paragraph(
            72,
            690,
            [
                "The harbour authority said that container traf-",
                "fic doubled in the year after the dredging.",
            ],
        ),
    ]
    path.write_bytes(pdf([lines], author="Dana Whitfield"))
    page = login_as(alice)
    page.goto(f"/p/{project.slug}/import/")
    page.locator("#id_file").set_input_files(path)
    page.get_by_role("button", name="Preview").click()

    expect(page.locator("#id_author")).to_have_value("Dana Whitfield")
    expect(page.locator("#id_published_on")).to_have_value("2024-03-05")
    preview = page.locator("section[aria-labelledby=preview-h]")
    expect(preview.locator("ol > li").first).to_have_text(
        "The harbour authority said that container traffic doubled in the year after the dredging."
    )
    preview.get_by_role("button", name=re.compile(r"^Import \d+ claim")).click()
    expect(page).to_have_url(re.compile(r"/p/demo/a/\d+/$"))
    assert Article.objects.get().filename == "report.pdf"
