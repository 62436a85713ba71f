"""A reviewer reading an article changes a ruling, then withdraws it, from the claim's
panel: the panel and the claim's highlight follow, and the log has one event for each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from claims.models import Adjudication, Article, AuditEvent
from tests.browser.screens import article_path, claim_span, has_class, settled


@pytest.mark.browser
def test_reviewer_changes_and_withdraws_a_ruling_from_the_panel(
    login_as: Callable[[Any], Page],
    screenshot: Callable[[Page], Path],
    sample_article: Article,
    bob: Any,
    carol: Any,
    rita: Any,
) -> None:
    claim = sample_article.claims.order_by("ordinal")[4]
    claim.set_verdict(bob, "supported")
    claim.set_verdict(carol, "disputed")
    claim.adjudicate(rita, "disputed", rationale="The first reading.")
    page = login_as(rita)
    page.goto(article_path(sample_article, claim))
    ruling = page.locator("#claim-panel #ruling")
    expect(ruling.locator("#ruling-h")).to_have_text("Ruling: Disputed")
    settled(page)

    ruling.locator("textarea[name=rationale]").fill("A later source settles it.")
    ruling.locator("button[value=supported]").click()
    expect(ruling.locator("#ruling-h")).to_have_text("Ruling: Supported")
    expect(page.locator("#claim-panel .adjudicated")).to_contain_text("A later source settles it.")
    expect(claim_span(page, claim).locator(".team")).to_have_class(has_class("t-adjudicated"))
    settled(page)
    ruling.scroll_into_view_if_needed()
    screenshot(page)

    ruling.locator("button[value=withdraw]").click()
    expect(ruling.locator("#ruling-h")).to_have_text("Ruling")
    expect(page.locator("#claim-panel .adjudicated")).to_have_count(0)
    expect(claim_span(page, claim).locator(".team")).to_have_class(has_class("t-contested"))
    assert Adjudication.objects.get(claim=claim).status == ""
    actions = AuditEvent.objects.filter(action__startswith="adjudication").order_by("seq")
    assert list(actions.values_list("action", flat=True)) == [
        "adjudication.set",
        "adjudication.changed",
        "adjudication.withdrawn",
    ]
