"""Two browsers on one claim: a teammate's verdict shows up, a stale tab gets a conflict."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from claims.models import Article, Verdict
from tests.browser.screens import article_path, claim_span, has_class, verdict_button


@pytest.mark.browser
def test_teammate_sees_the_new_team_state_after_reloading(
    login_as: Callable[[Any], Page],
    screenshot: Callable[[Page], Path],
    sample_article: Article,
    bob: Any,
    carol: Any,
) -> None:
    claim = sample_article.claims.order_by("ordinal").first()
    carols = login_as(carol)
    carols.goto(article_path(sample_article, claim))
    verdict_button(carols, "2").click()
    carols_panel = carols.locator("#claim-panel")
    expect(carols_panel.locator("#verdict-h .badge")).to_have_text("Disputed")
    carols.reload()
    team = claim_span(carols, claim).locator(".team")
    expect(team).to_have_attribute("title", "Team: Unreviewed (1 verdict)")
    expect(carols_panel.locator("section[aria-labelledby=team-h]")).to_contain_text(
        "No other verdicts yet."
    )

    bobs = login_as(bob)
    bobs.goto(article_path(sample_article, claim))
    verdict_button(bobs, "1").click()
    expect(bobs.locator("#claim-panel #verdict-h .badge")).to_have_text("Supported")

    carols.reload()
    expect(team).to_have_attribute("title", "Team: Contested (2 verdicts)")
    expect(team).to_have_class(has_class("t-contested"))
    team_section = carols_panel.locator("section[aria-labelledby=team-h]")
    expect(team_section.locator(".badge").first).to_have_text("Contested")
    expect(team_section.locator("li")).to_have_text("bob: Supported")
    screenshot(carols)


@pytest.mark.browser
def test_stale_tab_gets_conflict_and_keeps_what_was_typed(
    login_as: Callable[[Any], Page],
    screenshot: Callable[[Page], Path],
    sample_article: Article,
    bob: Any,
) -> None:
    claim = sample_article.claims.order_by("ordinal").first()
    first, second = login_as(bob), login_as(bob)
    for page in (first, second):
        page.goto(article_path(sample_article, claim))
        expect(page.locator("#claim-panel")).to_have_attribute("data-claim", str(claim.pk))

    verdict_button(first, "1").click()
    expect(first.locator("#claim-panel #verdict-h .badge")).to_have_text("Supported")

    rationale = "The exercise was aimed at NATO, not at China."
    second.fill("#id_rationale", rationale)
    verdict_button(second, "2").click()
    conflict = second.locator("#claim-panel .conflict")
    expect(conflict).to_contain_text("Your verdict was changed elsewhere")
    expect(conflict).to_contain_text("It is now Supported")
    expect(second.locator("#id_rationale")).to_have_value(rationale)
    expect(second.locator("#claim-panel")).to_be_focused()
    screenshot(second)

    verdict = Verdict.objects.get(claim=claim, analyst=bob)
    assert (verdict.status, verdict.rationale, verdict.version) == ("supported", "", 1)
