"""Two analysts disagree; a reviewer settles it from the queue; the article shows it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from claims.models import Adjudication, Article, AuditEvent
from tests.browser.screens import article_path, claim_span, has_class, settled, verdict_button


@pytest.mark.browser
def test_reviewer_settles_a_disagreement_from_the_queue(
    login_as: Callable[[Any], Page],
    screenshot: Callable[[Page], Path],
    sample_article: Article,
    bob: Any,
    carol: Any,
    rita: Any,
) -> None:
    claim = sample_article.claims.order_by("ordinal")[2]
    for analyst, key in ((bob, "1"), (carol, "2")):
        page = login_as(analyst)
        page.goto(article_path(sample_article, claim))
        verdict_button(page, key).click()
        expect(page.locator("#claim-panel #verdict-h .badge")).to_be_visible()
        settled(page)

    reviewer = login_as(rita)
    reviewer.goto(f"/p/{sample_article.project.slug}/queue/")
    item = reviewer.locator(f"#queue-item-{claim.pk}")
    expect(item.locator(".badge").first).to_have_text("Contested")
    expect(item.locator("section.analyst")).to_have_count(2)
    item.locator("textarea[name=rationale]").fill("The ministry's own record settles it.")
    settled(reviewer)
    item.locator("button[value=disputed]").click()
    expect(reviewer.locator(f"#queue-item-{claim.pk} .adjudicated")).to_contain_text(
        "Adjudicated by rita as Disputed"
    )
    assert Adjudication.objects.get(claim=claim).status == "disputed"
    assert AuditEvent.objects.filter(action="adjudication.set").count() == 1

    analyst = login_as(bob)
    analyst.goto(article_path(sample_article, claim))
    expect(claim_span(analyst, claim).locator(".team")).to_have_class(has_class("t-adjudicated"))
    expect(analyst.locator("#claim-panel .adjudicated")).to_contain_text(
        "The ministry's own record settles it."
    )
    screenshot(analyst)
