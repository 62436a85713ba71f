"""The claim register in a browser: search, go through the results with j / k (the
article screen's panel opens beside them and a verdict key works there), open a result in
its article; and the same search without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from claims.models import Article, Claim, Verdict
from tests.browser.screens import has_class, log_in, settled


def hypersonic(article: Article) -> list[Claim]:
    claims = Claim.objects.with_text().filter(article=article)
    return [c for c in claims if "hypersonic" in c.text.lower()]


@pytest.mark.browser
def test_search_go_through_the_results_and_open_one_in_its_article(
    login_as: Callable[[Any], Page], sample_article: Article, bob: Any
) -> None:
    expected = hypersonic(sample_article)
    assert expected
    page = login_as(bob)
    page.goto("/p/demo/")
    page.get_by_role("link", name="Claims", exact=True).click()
    expect(page.locator("#register-results a.claim")).to_have_count(50)
    settled(page)
    page.evaluate("() => { window.samePage = true; }")  # gone if the page reloads

    page.fill("input[name=q]", "hypersonic")
    page.click("#filters button[type=submit]")
    results = page.locator("#register-results a.claim")
    expect(results).to_have_count(len(expected))
    expect(page.locator("#register-results .fragment mark").first).to_have_text(
        re.compile("hypersonic", re.IGNORECASE)
    )
    expect(page).to_have_url(re.compile(r"q=hypersonic"))
    assert page.evaluate("() => window.samePage === true")  # htmx swapped, no reload
    settled(page)

    # j opens the first result's panel beside the list; 1 supports it there.
    first = Claim.objects.get(pk=int(results.first.get_attribute("data-claim") or 0))
    page.locator("body").press("j")
    panel = page.locator("#claim-panel")
    expect(panel).to_have_attribute("data-claim", str(first.pk))
    expect(results.first).to_have_class(has_class("selected"))
    settled(page)
    page.locator("body").press("1")
    expect(page.locator('#verdict-form button[data-key="1"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    assert Verdict.objects.get(claim=first, analyst=bob).status == "supported"
    settled(page)

    # The result's article link opens the claim in its article, its panel open.
    page.locator(f"#row-{first.pk} a.open-article").click()
    expect(page).to_have_url(
        re.compile(rf"/a/{first.article_id}/\?claim={first.pk}#claim-{first.pk}$")
    )
    expect(page.locator("#claim-panel")).to_have_attribute("data-claim", str(first.pk))


@pytest.mark.browser
def test_without_javascript_the_search_is_a_form_and_results_are_links(
    without_javascript: Page, sample_article: Article, bob: Any
) -> None:
    page = without_javascript
    log_in(page, "bob")
    page.goto("/p/demo/claims/")
    page.fill("input[name=q]", '"glide vehicle"')
    page.click("#filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"/claims/\?q=%22glide\+vehicle%22"))
    results = page.locator("#register-results a.claim")
    expect(results).to_have_count(1)
    claim_id = results.first.get_attribute("data-claim")
    results.first.click()
    expect(page).to_have_url(re.compile(rf"\?claim={claim_id}#claim-{claim_id}$"))
    expect(page.locator("#claim-panel")).to_have_attribute("data-claim", str(claim_id))
