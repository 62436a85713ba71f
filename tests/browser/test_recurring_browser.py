"""The same claim in two articles: a reviewer confirms the proposal from the claim's panel,
then an analyst opens the claim and adopts the linked claim's verdict with one key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from claims.management.commands.recurring_quality import DATA
from claims.models import Article, AuditEvent, ClaimLink, LinkState, Verdict
from tests.browser.screens import article_path, claim_span, has_class, settled
from tests.factories import make_article


@pytest.mark.browser
def test_confirm_a_proposal_then_adopt_its_verdict_with_a_key(
    login_as: Callable[[Any], Page],
    screenshot: Callable[[Page], Path],
    sample_article: Article,
    alice: Any,
    bob: Any,
    carol: Any,
    rita: Any,
) -> None:
    project = sample_article.project
    arctic = make_article(
        project,
        (DATA / "arctic-and-energy.txt").read_bytes(),
        filename="arctic-and-energy.txt",
        actor=alice,
    )
    syria = next(c for c in sample_article.claims.all() if "Syria is the linchpin" in c.text)
    again = next(c for c in arctic.claims.all() if "Syria remains the linchpin" in c.text)
    link = ClaimLink.objects.get(claim_a=syria, claim_b=again)
    syria.set_verdict(carol, "disputed", rationale="Iran matters more to Moscow now.")

    reviewer = login_as(rita)
    reviewer.goto(article_path(arctic, again))
    section = reviewer.locator("#claim-panel #same-claim")
    item = section.locator(f"#link-{link.pk}")
    expect(item).to_contain_text("Proposed")
    expect(item).to_contain_text("Syria is the linchpin")
    settled(reviewer)
    item.get_by_role("button", name="Confirm: the same claim").click()
    expect(section.locator(f"#link-{link.pk}")).to_contain_text("Confirmed")
    assert ClaimLink.objects.get(pk=link.pk).state == LinkState.CONFIRMED

    analyst = login_as(bob)
    analyst.goto(article_path(arctic, again))
    linked = analyst.locator(f"#claim-panel #same-claim #link-{link.pk}")
    expect(linked).to_contain_text("Iran matters more to Moscow now.")
    settled(analyst)
    claim_span(analyst, again).focus()
    analyst.keyboard.press("a")
    expect(analyst.locator("#claim-panel #verdict-h")).to_contain_text("Disputed")
    expect(analyst.locator("#claim-panel textarea[name=rationale]")).to_have_value(
        "Iran matters more to Moscow now."
    )
    expect(claim_span(analyst, again)).to_have_class(has_class("v-disputed"))
    settled(analyst)
    screenshot(analyst)
    verdict = Verdict.objects.get(claim=again, analyst=bob)
    assert verdict.status == "disputed"
    adopted = AuditEvent.objects.filter(claim_id=again.pk, action="verdict.set").get()
    assert f'"adopted_from":{syria.pk}' in adopted.body
