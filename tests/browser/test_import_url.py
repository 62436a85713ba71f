"""An admin imports an article from a link, and from a PDF, in the browser."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from claims.models import Article, AuditEvent, Project
from tests.pdfs import Line, paragraph, pdf
from tests.webpages import ARTICLE_PAGE, Served, serve
from tests.webpages import Page as WebPage

TITLE = "Harbour dredging doubled the port's traffic"


@pytest.fixture
def site(settings: Any) -> Iterator[Served]:
    settings.CLAIMS_FETCH_ALLOW_PRIVATE = ["127.0.0.1/32"]
    with serve({"/story": WebPage(ARTICLE_PAGE)}) as server:
        yield server


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
    page.get_by_label("From a link").fill(site.url("/story"))
    page.get_by_role("button", name="Preview").click()

    preview = page.locator("section[aria-labelledby=preview-h]")
    expect(preview.locator("p.found")).to_contain_text("Dana Whitfield")
    expect(page.locator("#id_title")).to_have_value(TITLE)
    expect(page.locator("#id_published_on")).to_have_value("2024-03-05")
    expect(page.locator("#id_source_url")).to_have_value(site.url("/story"))
    expect(preview.locator("ol > li").first).to_contain_text("container traffic doubled")
    assert not Article.objects.exists(), "the preview must not store anything"
    screenshot(page)

    preview.get_by_role("button", name=re.compile(r"^Import \d+ claims")).click()
    expect(page).to_have_url(re.compile(r"/p/demo/a/\d+/$"))
    expect(page.locator("#article-title")).to_have_text(TITLE)
    expect(page.locator("p.source a")).to_have_attribute("href", site.url("/story"))
    expect(page.locator("p.source")).to_contain_text("fetched")
    article = Article.objects.get()
    assert article.fetched_at is not None
    assert AuditEvent.objects.filter(action="article.imported", actor=alice).count() == 1


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
