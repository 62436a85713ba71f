"""Keyboard all the way: an analyst tags ten claims with rationales (and a date) without a
mouse and without the Tab key; `j` / `k` put the focus on the claim and say which it is;
`?` lists every key, in a dialog and, without JavaScript, as a page."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from claims.models import Article, AuditEvent, Verdict
from tests.browser.screens import article_path, claim_span, log_in, settled
from tests.browser.test_keyboard_race import LATENCY_MS, throttle

# Every key of the screen, as the help writes it.
KEYS = {"j", "k", "1", "2", "3", "0", "h", "r", "d", "a", "Enter", "Ctrl", "Shift", "e", "Esc", "?"}
STATUSES = {"1": "supported", "2": "disputed", "3": "outdated"}
SINCE = dt.date(2021, 10, 1)
# Counts the Tab keys that reach the page, whoever presses them.
COUNT_TABS = """() => {
  window.tabs = 0;
  document.addEventListener("keydown", (e) => { if (e.key === "Tab") window.tabs++; }, true);
}"""


class Keyboard:
    """The person's hands: keys and typing, and never Tab."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def press(self, key: str) -> None:
        assert "Tab" not in key
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        assert "\t" not in text
        self.page.keyboard.type(text)


@pytest.mark.browser
def test_analyst_tags_ten_claims_with_rationales_without_mouse_or_tab(
    login_as: Callable[[Any], Page], sample_article: Article, bob: Any
) -> None:
    page = login_as(bob)
    page.goto(article_path(sample_article))
    page.evaluate(COUNT_TABS)
    keys = Keyboard(page)
    panel = page.locator("#claim-panel")
    announced = page.locator("#announce")
    claims = list(sample_article.claims.order_by("ordinal")[:10])
    wanted: dict[int, tuple[str, str, dt.date | None]] = {}

    for number, claim in enumerate(claims):
        key = "123"[number % 3]
        status, rationale = STATUSES[key], f"Rationale {number}: checked against the source."
        keys.press("j")
        expect(panel).to_have_attribute("data-claim", str(claim.pk))
        expect(claim_span(page, claim)).to_be_focused()
        expect(announced).to_have_text(f"Claim {claim.ordinal} of 100, not tagged by you")
        settled(page)
        since = SINCE if status == "outdated" else None
        if number % 2 == 0:
            # Rationale (and date) first, then the verdict key saves them all at once.
            keys.press("r")
            expect(panel.locator("#id_rationale")).to_be_focused()
            keys.type(rationale)
            if since:
                keys.press("Escape")
                keys.press("d")
                expect(panel.locator("#id_as_of")).to_be_focused()
                keys.type(since.strftime("%m%d%Y"))
                expect(panel.locator("#id_as_of")).to_have_value(since.isoformat())
            keys.press("Escape")
            expect(claim_span(page, claim)).to_be_focused()
            keys.press(key)
        else:
            # The verdict first; then the rationale, which Enter (or Ctrl+Enter) saves.
            keys.press(key)
            expect(panel.locator("#verdict-h .badge")).to_have_text(status.title())
            settled(page)
            keys.press("r")
            expect(panel.locator("#id_rationale")).to_be_focused()
            keys.type(rationale)
            keys.press("Control+Enter" if number == 3 else "Enter")
            if since:
                settled(page)
                keys.press("d")
                keys.type(since.strftime("%m%d%Y"))
                keys.press("Enter")
        expect(panel.locator("#verdict-h .badge")).to_have_text(status.title())
        settled(page)
        expect(claim_span(page, claim)).to_be_focused()
        expect(announced).to_have_text(f"Claim {claim.ordinal} of 100, {status} by you")
        wanted[claim.pk] = (status, rationale, since)

    keys.press("k")
    expect(claim_span(page, claims[-2])).to_be_focused()
    expect(announced).to_have_text(f"Claim {claims[-2].ordinal} of 100, outdated by you")
    expect(page.locator("#progress")).to_contain_text("You: 10 of 100 tagged")

    assert page.evaluate("() => window.tabs") == 0
    stored = Verdict.objects.filter(analyst=bob)
    assert {v.claim_id: (v.status, v.rationale, v.as_of) for v in stored} == wanted
    # One save for the claims whose rationale came first; for the others, the verdict, then
    # its rationale, then for the outdated one its date: Enter saved the verdict that stood.
    actions = Counter(AuditEvent.objects.filter(actor=bob).values_list("action", flat=True))
    assert actions == {"verdict.set": 10, "verdict.changed": 5 + 1}


@pytest.mark.browser
def test_enter_with_no_verdict_yet_keeps_the_rationale_for_the_next_verdict_key(
    login_as: Callable[[Any], Page], sample_article: Article, bob: Any
) -> None:
    claim = sample_article.claims.order_by("ordinal").first()
    page = login_as(bob)
    page.goto(article_path(sample_article, claim))
    keys = Keyboard(page)
    panel = page.locator("#claim-panel")
    settled(page)
    keys.press("r")
    keys.type("Line one.")
    keys.press("Shift+Enter")
    keys.type("Line two.")
    keys.press("Enter")
    expect(claim_span(page, claim)).to_be_focused()
    expect(page.locator("#announce")).to_contain_text("press 1, 2 or 3")
    assert not Verdict.objects.filter(analyst=bob).exists()
    keys.press("2")
    expect(panel.locator("#verdict-h .badge")).to_have_text("Disputed")
    assert Verdict.objects.get(analyst=bob).rationale == "Line one.\nLine two."


@pytest.mark.browser
def test_rationale_key_while_the_next_panel_loads_does_nothing(
    login_as: Callable[[Any], Page], sample_article: Article, bob: Any
) -> None:
    """`j r` typed fast: `r` came while claim 2's panel loaded, so it focused no field (not
    claim 1's, on its way out); the focus is on claim 2, and `r` then opens its rationale."""
    first, second = sample_article.claims.order_by("ordinal")[:2]
    page = login_as(bob)
    page.goto(article_path(sample_article, first))
    panel = page.locator("#claim-panel")
    settled(page)
    throttle(page, LATENCY_MS)
    keys = Keyboard(page)
    keys.press("j")
    keys.press("r")
    assert page.locator("a.claim.htmx-request").count() == 1  # r came during the load
    expect(panel).to_have_attribute("data-claim", str(second.pk))
    settled(page)
    expect(claim_span(page, second)).to_be_focused()
    keys.press("r")
    expect(page.locator(f'#verdict-form[data-claim="{second.pk}"] #id_rationale')).to_be_focused()


def listed_keys(page: Page, where: str) -> set[str]:
    return {k.strip() for k in page.locator(f"{where} dl.keys kbd").all_inner_texts()}


@pytest.mark.browser
def test_question_mark_lists_every_key_in_a_dialog(
    login_as: Callable[[Any], Page], sample_article: Article, bob: Any
) -> None:
    page = login_as(bob)
    page.goto(article_path(sample_article))
    help_ = page.locator("#help")
    page.keyboard.press("?")
    expect(help_).to_be_visible()
    assert listed_keys(page, "#help") == KEYS
    page.keyboard.press("Escape")
    expect(help_).to_be_hidden()


@pytest.mark.browser
def test_without_javascript_the_keys_are_a_page(
    without_javascript: Page, sample_article: Article, bob: Any
) -> None:
    page = without_javascript
    log_in(page, bob.get_username())
    page.goto(article_path(sample_article))
    page.get_by_role("link", name="Keys").click()
    page.wait_for_url("**/keys/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Keys")
    assert listed_keys(page, "main") == KEYS
