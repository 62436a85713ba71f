"""The re-check screens pass axe-core, at desktop and phone sizes: the Due queue (mine and
the team's), the freshness settings, the article with a due claim's panel open, and the
consensus screen's flags."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from claims.models import Article
from tests.browser.screens import log_in
from tests.browser.test_axe import DESKTOP, PHONE, open_page, violations

__all__ = ["open_page"]  # the fixture, used by name


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_recheck_pages_have_no_accessibility_violations(
    open_page: Callable[[ViewportSize], Page],
    viewport: ViewportSize,
    sample_article: Article,
    alice: Any,
    bob: Any,
) -> None:
    first, second = sample_article.claims.order_by("ordinal")[:2]
    first.set_verdict(alice, "supported", rationale="The readout says so.")
    second.set_verdict(alice, "disputed")
    first.set_verdict(bob, "disputed")
    first.add_evidence(bob, url="https://example.org/denial", title="Denial", stance="contradicts")
    slug, pk = sample_article.project.slug, sample_article.pk
    page = open_page(viewport)
    log_in(page, alice.get_username())
    paths = {
        "due, mine": f"/p/{slug}/due/",
        "due, the team's": f"/p/{slug}/due/?whose=team",
        "freshness settings": f"/p/{slug}/settings/recheck/",
        "consensus with flags": f"/p/{slug}/a/{pk}/consensus/",
        "article, a due claim": f"/p/{slug}/a/{pk}/?claim={first.pk}",
    }
    found = {name: violations(page, path) for name, path in paths.items()}
    # What was checked holds what it is about: the last page, the due claim's panel.
    expect(page.locator("#due-line")).to_contain_text("new evidence since your verdict")
    expect(page.locator("a.claim.due")).to_have_count(1)
    assert {name: problems for name, problems in found.items() if problems} == {}
