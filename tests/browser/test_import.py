"""An admin imports an article in the browser: paste, preview, confirm, read."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from claims.models import Article, AuditEvent, Project
from tests.browser.screens import article_path
from tests.factories import SHORT_TEXT


@pytest.mark.browser
def test_admin_previews_then_confirms_a_pasted_article(
    login_as: Callable[[Any], Page],
    screenshot: Callable[[Page], Path],
    project: Project,
    alice: Any,
) -> None:
    page = login_as(alice)
    page.goto(f"/p/{project.slug}/import/")
    page.fill("#id_text", SHORT_TEXT)
    page.fill("#id_published_on", "2021-10-22")
    page.get_by_role("button", name="Preview").click()

    preview = page.locator("section[aria-labelledby=preview-h]")
    expect(preview.get_by_role("status")).to_have_text(
        "4 claims in 2 sections, 1 citation, 5 blocks."
    )
    expect(preview.locator("ol > li")).to_have_count(4)
    expect(preview.locator("ol > li").last).to_have_text("Analysts expect little change in 2022.")
    assert not Article.objects.exists(), "the preview must not store anything"

    preview.get_by_role("button", name="Import 4 claims").click()
    expect(page).to_have_url(re.compile(r"/p/demo/a/\d+/$"))
    expect(page.locator("ul.messages")).to_have_text("Imported 4 claims and 1 citation.")
    expect(page.locator("#article-title")).to_have_text("A Short Test Article")
    expect(page.locator("article.reading a.claim")).to_have_count(4)
    expect(page.locator("article.reading a.claim").first).to_contain_text(
        "Moscow praised the talks"
    )
    screenshot(page)

    article = Article.objects.get()
    assert page.url.endswith(article_path(article))
    assert article.text == SHORT_TEXT
    assert article.claims.count() == 4
    assert AuditEvent.objects.filter(action="article.imported", actor=alice).count() == 1


GUESSY_TEXT = """Ports Under Pressure

By Jane Doe

Freight rates rose (Kommersant, n.d.). Exports fell (Eurostat, March 2024).

Three things changed:

- Insurers raised premiums.
- Ships took the long way round.

> Nobody expected the canal to close.
"""


@pytest.mark.browser
def test_the_preview_lists_what_the_importer_guessed_and_the_article_keeps_lists_and_quotes(
    login_as: Callable[[Any], Page], project: Project, alice: Any
) -> None:
    page = login_as(alice)
    page.goto(f"/p/{project.slug}/import/")
    page.fill("#id_text", GUESSY_TEXT)
    page.fill("#id_published_on", "2024-05-01")
    page.get_by_role("button", name="Preview").click()

    preview = page.locator("section[aria-labelledby=preview-h]")
    notes = preview.get_by_role("list", name="To check before importing")
    expect(notes.locator("li")).to_have_count(1)
    expect(notes.locator("li")).to_contain_text("Undated citation: “Kommersant, n.d.”")
    expect(preview).to_contain_text("(1 citation stored undated)")
    rows = preview.locator("table").last.locator("tbody tr")
    expect(rows.nth(0).locator("td")).to_have_text(
        ["Kommersant, n.d.", "Kommersant", "undated", "unknown: stored undated"]
    )
    expect(rows.nth(1).locator("td")).to_have_text(
        ["Eurostat, March 2024", "Eurostat", "2024-03", "given"]
    )
    assert not Article.objects.exists()

    preview.get_by_role("button", name="as shown").click()
    expect(page).to_have_url(re.compile(r"/p/demo/a/\d+/$"))
    reading = page.locator("article.reading")
    expect(reading.locator("ul.article-list > li a.claim")).to_have_count(2)
    expect(reading.locator("blockquote a.claim")).to_contain_text(
        "Nobody expected the canal to close."
    )
    expect(reading.locator("p.nonclaim.byline")).to_contain_text("By Jane Doe")
    article = Article.objects.get()
    assert article.author == "Jane Doe"
    assert [c.when for c in article.citations.order_by("ordinal")] == ["undated", "2024-03"]
