"""Re-checks in a real browser: new evidence marks the analyst's verdict due, `h` confirms
it still holds (one event, through htmx, not as a plain form post too), and the mark and
the panel's line go."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from claims.models import Article, AuditEvent, Verdict
from tests.browser.screens import article_path, claim_span, has_class, settled


@pytest.mark.browser
def test_h_confirms_a_due_verdict_still_holds(
    login_as: Callable[[Any], Page], sample_article: Article, bob: Any, carol: Any
) -> None:
    claim = sample_article.claims.order_by("ordinal").first()
    claim.set_verdict(bob, "supported")
    claim.add_evidence(carol, url="https://example.org/new", stance="contradicts")
    page = login_as(bob)
    page.goto(article_path(sample_article, claim))
    settled(page)
    span = claim_span(page, claim)
    expect(span).to_have_class(has_class("due"))
    expect(page.locator("#due-line")).to_contain_text("new evidence since your verdict")
    events = AuditEvent.objects.count()
    span.focus()
    page.keyboard.press("h")
    line = page.locator("#due-line")
    expect(line).to_have_text(re.compile(r"^Due for re-check on \d{4}-\d{2}-\d{2}\.$"))
    expect(span).not_to_have_class(has_class("due"))
    settled(page)
    assert AuditEvent.objects.count() == events + 1
    assert AuditEvent.objects.latest("seq").action == "verdict.confirmed"
    verdict = Verdict.objects.get(claim=claim, analyst=bob)
    assert verdict.version == 2
    fresh_until = (verdict.checked_at + dt.timedelta(days=180)).date()
    assert line.inner_text() == f"Due for re-check on {fresh_until.isoformat()}."
    assert page.url.endswith(article_path(sample_article, claim))  # no page load
