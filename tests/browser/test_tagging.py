"""An analyst tags claims and handles evidence on the article screen, from the keyboard."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from claims.models import Article, AuditEvent, Verdict
from tests.browser.screens import article_path, claim_span, has_class, settled

KEYS_AND_VERDICTS = [
    ("1", "supported"),
    ("2", "disputed"),
    ("3", "outdated"),
    ("1", "supported"),
    ("2", "disputed"),
]


@pytest.mark.browser
def test_analyst_tags_five_claims_and_handles_evidence_from_the_keyboard(
    login_as: Callable[[Any], Page],
    screenshot: Callable[[Page], Path],
    sample_article: Article,
    bob: Any,
) -> None:
    page = login_as(bob)
    page.goto(article_path(sample_article))
    panel = page.locator("#claim-panel")
    progress = page.locator("#progress")
    expect(progress).to_contain_text("You: 0 of 100 tagged")

    claims = list(sample_article.claims.order_by("ordinal")[: len(KEYS_AND_VERDICTS)])
    for claim, (key, status) in zip(claims, KEYS_AND_VERDICTS, strict=True):
        page.keyboard.press("j")
        expect(panel).to_have_attribute("data-claim", str(claim.pk))
        expect(claim_span(page, claim)).to_have_class(has_class("selected"))
        page.keyboard.press(key)
        expect(panel.locator("#verdict-h .badge")).to_have_text(status.title())
        expect(panel.locator(f'#verdict-form button[value="{status}"]')).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(claim_span(page, claim)).to_have_class(has_class(f"v-{status}"))
        settled(page)
    expect(progress).to_contain_text("You: 5 of 100 tagged")
    for claim, (_key, status) in zip(claims, KEYS_AND_VERDICTS, strict=True):
        expect(claim_span(page, claim)).to_have_class(has_class(f"v-{status}"))

    page.keyboard.press("e")
    evidence_add = panel.locator("#evidence-add")
    expect(evidence_add).to_have_attribute("open", "")
    expect(panel.locator("#id_evidence-url")).to_be_focused()
    page.keyboard.type("https://example.org/zapad-2021-report")
    panel.locator("#id_evidence-title").fill("Zapad-2021 after-action report")
    panel.locator("#id_evidence-stance").select_option("contradicts")
    evidence_add.get_by_role("button", name="Add evidence").click()
    listed = panel.locator("ul.evidence li")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("Contradicts")
    expect(listed.get_by_role("link", name="Zapad-2021 after-action report")).to_have_attribute(
        "href", "https://example.org/zapad-2021-report"
    )
    settled(page)
    screenshot(page)

    listed.get_by_role("button", name="Remove").click()
    expect(panel.locator("ul.evidence li")).to_have_count(0)
    expect(panel.locator("#evidence")).to_contain_text("No evidence yet.")
    expect(progress).to_contain_text("You: 5 of 100 tagged")

    stored = Verdict.objects.filter(analyst=bob).order_by("claim__ordinal")
    assert [(v.claim_id, v.status) for v in stored] == [
        (claim.pk, status) for claim, (_key, status) in zip(claims, KEYS_AND_VERDICTS, strict=True)
    ]
    actions = Counter(AuditEvent.objects.filter(actor=bob).values_list("action", flat=True))
    assert actions == {"verdict.set": 5, "evidence.added": 1, "evidence.removed": 1}
