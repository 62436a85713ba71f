"""A reviewer works the disagreement queue from the keyboard, without a mouse or the Tab
key: `j` / `k` move from claim to claim, `1` `2` `3` rule with the rationale (and date),
`0` withdraws; and `?` lists the queue's keys."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from claims.models import Adjudication, Article, AuditEvent
from tests.browser.screens import settled
from tests.browser.test_keyboard_all import COUNT_TABS, Keyboard

SINCE = dt.date(2021, 9, 1)


@pytest.fixture
def disputed(sample_article: Article, bob: Any, carol: Any) -> list[Any]:
    """bob and carol disagree on three claims: the queue, in text order."""
    claims = list(sample_article.claims.order_by("ordinal")[3:6])
    for claim in claims:
        claim.set_verdict(bob, "supported", rationale="The source says so.")
        claim.set_verdict(carol, "disputed", rationale="A later source says otherwise.")
    return claims


@pytest.mark.browser
def test_reviewer_rules_from_the_queue_by_keyboard(
    login_as: Callable[[Any], Page],
    screenshot: Callable[[Page], Path],
    disputed: list[Any],
    rita: Any,
) -> None:
    first, second, third = disputed
    page = login_as(rita)
    page.goto(f"/p/{first.article.project.slug}/queue/")
    page.evaluate(COUNT_TABS)
    keys = Keyboard(page)
    announced = page.locator("#announce")

    def item(claim: Any) -> Any:
        return page.locator(f"#queue-item-{claim.pk}")

    def ruled(claim: Any, words: str) -> None:
        expect(item(claim).locator(".adjudicated")).to_contain_text(words)
        settled(page)
        expect(item(claim)).to_be_focused()

    # The first claim: its key first, which opens the rationale; Enter rules.
    keys.press("j")
    expect(item(first)).to_be_focused()
    expect(announced).to_have_text(f"Claim {first.ordinal}, contested, 1 of 3")
    keys.press("2")
    expect(item(first).locator("textarea[name=rationale]")).to_be_focused()
    expect(announced).to_contain_text("press Enter to rule disputed")
    assert not Adjudication.objects.exists()
    keys.type("The ministry's own record settles it.")
    keys.press("Enter")
    ruled(first, "Adjudicated by rita as Disputed: The ministry's own record settles it.")
    expect(announced).to_have_text(f"Claim {first.ordinal} ruled disputed")

    # The second: the rationale first, then the key.
    keys.press("j")
    expect(item(second)).to_be_focused()
    keys.press("r")
    expect(item(second).locator("textarea[name=rationale]")).to_be_focused()
    keys.type("Both sources agree on the figure.")
    keys.press("Escape")
    expect(item(second)).to_be_focused()
    keys.press("1")
    ruled(second, "Adjudicated by rita as Supported")

    # The third: outdated, since a date.
    keys.press("j")
    keys.press("r")
    keys.type("Overtaken by the 2021 agreement.")
    keys.press("Escape")
    keys.press("d")
    since = item(third).locator("input[name=as_of]")
    expect(since).to_be_focused()
    keys.type(SINCE.strftime("%m%d%Y"))
    expect(since).to_have_value(SINCE.isoformat())
    keys.press("Escape")
    keys.press("3")
    ruled(third, "Adjudicated by rita as Outdated")

    # Back to the second, and its ruling withdrawn.
    keys.press("k")
    expect(item(second)).to_be_focused()
    expect(announced).to_have_text(f"Claim {second.ordinal}, adjudicated, 2 of 3")
    keys.press("0")
    expect(item(second).locator(".adjudicated")).to_have_count(0)
    settled(page)
    expect(item(second)).to_be_focused()
    expect(announced).to_have_text(f"Claim {second.ordinal}: ruling withdrawn")

    screenshot(page)
    assert page.evaluate("() => window.tabs") == 0
    stored = {a.claim_id: (a.status, a.rationale, a.as_of) for a in Adjudication.objects.all()}
    assert stored == {
        first.pk: ("disputed", "The ministry's own record settles it.", None),
        second.pk: ("", "", None),
        third.pk: ("outdated", "Overtaken by the 2021 agreement.", SINCE),
    }
    actions = Counter(AuditEvent.objects.filter(actor=rita).values_list("action", flat=True))
    assert actions == {"adjudication.set": 3, "adjudication.withdrawn": 1}


@pytest.mark.browser
def test_question_mark_lists_the_queue_keys(
    login_as: Callable[[Any], Page], disputed: list[Any], rita: Any
) -> None:
    page = login_as(rita)
    page.goto(f"/p/{disputed[0].article.project.slug}/queue/")
    help_ = page.locator("#help")
    page.keyboard.press("?")
    expect(help_).to_be_visible()
    listed = {k.strip() for k in help_.locator("dl.queue-keys kbd").all_inner_texts()}
    assert listed == {"j", "k", "1", "2", "3", "0", "r", "d", "Enter", "Shift", "Esc", "?"}
    page.keyboard.press("Escape")
    expect(help_).to_be_hidden()
