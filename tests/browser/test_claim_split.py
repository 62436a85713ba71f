"""A reviewer splits a claim in two from the claim panel, and undoes it from history."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from claims.models import Article, AuditEvent
from tests.browser.screens import article_path, claim_span, settled


@pytest.mark.browser
def test_reviewer_splits_a_claim_and_the_screen_shows_one_more(
    login_as: Callable[[Any], Page],
    screenshot: Callable[[Page], Path],
    sample_article: Article,
    rita: Any,
) -> None:
    claim = sample_article.claims.order_by("ordinal").first()
    page = login_as(rita)
    page.goto(article_path(sample_article))
    expect(page.locator("a.claim")).to_have_count(100)
    expect(page.locator(".byline")).to_contain_text("100 claims")
    claim_span(page, claim).click()
    expect(page.locator("#claim-panel")).to_have_attribute("data-claim", str(claim.pk))
    settled(page)

    page.get_by_text("Split in two").click()
    split_at = page.locator("#id_split_at")
    expect(split_at).to_be_visible()
    options = split_at.locator("option")
    at = int(options.nth(options.count() // 2).get_attribute("value") or "")
    split_at.select_option(str(at))
    page.locator("#edit-split").get_by_role("button", name="Split").click()

    # The edit answers with HX-Redirect to the article screen, which must show the new claim
    # (101 claims are more than a page: the page shown is the one that holds the claim,
    # and the article's progress, over its 101 claims, is counted just after it shows).
    expect(page.locator("#progress")).to_contain_text("of 101 tagged")
    right = sample_article.claims.get(ordinal=101)  # the next free number; none shifted
    expect(claim_span(page, right)).to_contain_text(right.text)
    expect(claim_span(page, claim)).to_contain_text(sample_article.claims.get(pk=claim.pk).text)
    expect(page.locator("#claim-panel")).to_have_attribute("data-claim", str(claim.pk))
    screenshot(page)

    assert sample_article.claims.count() == 101
    event = AuditEvent.objects.get(action="claim.split")
    assert (event.actor, event.claim_id) == (rita, claim.pk)
    assert right.start >= at
    numbers = {c.pk: c.ordinal for c in sample_article.claims.all()}
    assert sorted(numbers.values()) == list(range(1, 102))

    # Undone from the claim's history: the parts merge back, every number as it was.
    page.goto(f"/p/{sample_article.project.slug}/c/{claim.pk}/history/")
    expect(page.locator("h1")).to_have_text(f"History of claim {claim.ordinal}")
    entry = page.locator("li", has_text="split the claim in two; the new claim 101 reads")
    entry.get_by_role("button", name="Revert").click()
    expect(page.locator("ul.messages")).to_contain_text("Reverted")
    page.goto(article_path(sample_article))
    expect(page.locator("a.claim")).to_have_count(100)
    assert AuditEvent.objects.filter(action="claim.merged").count() == 1
    assert {c.pk: c.ordinal for c in sample_article.claims.all()} == {
        pk: n for pk, n in numbers.items() if pk != right.pk
    }
