"""The article screen's filters apply as they change, keep the open claim while it still
matches, and leave the search box as it was; without JavaScript the Filter button does the
same, and opening a claim (or filtering with one open) lands at it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from claims.models import Article
from tests.browser.screens import article_path, claim_span, has_class, log_in, settled


@pytest.fixture
def tagged(sample_article: Article, bob: Any) -> list[Any]:
    """bob supports the first claim and disputes the second."""
    first, second = sample_article.claims.order_by("ordinal")[:2]
    first.set_verdict(bob, "supported")
    second.set_verdict(bob, "disputed")
    return [first, second]


@pytest.mark.browser
def test_filters_apply_as_they_change_and_keep_the_open_claim_while_it_matches(
    login_as: Callable[[Any], Page], sample_article: Article, tagged: list[Any], bob: Any
) -> None:
    supported, disputed = tagged
    page = login_as(bob)
    page.goto(article_path(sample_article, supported))
    panel, count = page.locator("#claim-panel"), page.locator("#match-count")
    settled(page)
    page.evaluate("() => { window.samePage = true; }")  # gone if the page reloads

    page.select_option("select[name=show]", "supported")
    expect(count).to_have_text("1 of 100 claims match")
    expect(panel).to_have_attribute("data-claim", str(supported.pk))
    expect(claim_span(page, supported)).to_have_class(has_class("selected"))
    expect(claim_span(page, disputed)).to_have_class(has_class("dim"))
    expect(page).to_have_url(re.compile(rf"show=supported.*keep={supported.pk}"))
    expect(page.locator("#clear-filters a")).to_have_text("Clear filters")
    settled(page)

    # The open claim no longer matches: the panel closes.
    page.select_option("select[name=show]", "disputed")
    expect(count).to_have_text("1 of 100 claims match")
    expect(panel).not_to_have_attribute("data-claim", re.compile(".*"))
    expect(panel).to_contain_text("Select a claim")
    settled(page)

    # Searching filters as one types, and the box keeps the focus and what was typed.
    page.select_option("select[name=show]", "all")
    settled(page)
    search = page.locator("input[name=q]")
    search.click()
    page.keyboard.type("hypersonic")
    expect(count).to_have_text(re.compile(r"^[1-9]\d? of 100 claims match$"))
    expect(search).to_be_focused()
    expect(search).to_have_value("hypersonic")
    matching = page.locator("a.claim:not(.dim)")
    expect(matching.first).to_contain_text("hypersonic")
    assert page.evaluate("() => window.samePage") is True
    assert "hypersonic" in page.url


@pytest.mark.browser
def test_without_javascript_opening_or_filtering_lands_at_the_claim(
    without_javascript: Page, sample_article: Article, tagged: list[Any], bob: Any
) -> None:
    page = without_javascript
    log_in(page, bob.get_username())
    page.goto(article_path(sample_article))
    far = sample_article.claims.order_by("ordinal")[60]
    claim_span(page, far).click()
    page.wait_for_url(f"**/?claim={far.pk}#claim-{far.pk}")
    expect(page.locator("#claim-panel")).to_have_attribute("data-claim", str(far.pk))
    expect(claim_span(page, far)).to_be_in_viewport()
    assert page.evaluate("() => window.scrollY") > 0

    # Filtering with the Filter button keeps the open claim, and lands at it.
    page.select_option("select[name=show]", "untagged")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(f"**/?show=untagged&section=&q=&keep={far.pk}#claim-{far.pk}")
    expect(page.locator("#claim-panel")).to_have_attribute("data-claim", str(far.pk))
    expect(claim_span(page, far)).to_be_in_viewport()
    expect(page.locator("#match-count")).to_have_text("98 of 100 claims match")

    # A filter it does not match closes it.
    page.select_option("select[name=show]", "supported")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/?show=supported*")
    expect(page.locator("#claim-panel")).to_contain_text("Select a claim")
