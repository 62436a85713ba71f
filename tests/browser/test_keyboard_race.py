"""A verdict key pressed while the next claim's panel loads acts on the claim the person
sees, or not at all; never on the claim they just left, never as a full-page form post.

The network is slowed down so that the panel load is still in flight when the key comes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import cycle
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from claims.models import Article, Verdict
from tests.browser.screens import article_path, settled

ROUNDS = 20
# Long enough that a key pressed right after `j` comes while the panel is loading, even on a
# busy machine (at 150 ms a loaded CI host sometimes finished the load first), short
# enough that twenty rounds stay well under a minute.
LATENCY_MS = 400
# Consecutive statuses differ, so a verdict landing on the previous claim always changes it.
KEYS = {"2": "disputed", "1": "supported", "3": "outdated"}

# Counts what must never happen on the page: a swap whose target has gone, a page error.
# Also notes, for each verdict key, whether a claim's panel was loading when the key came:
# the page's own view of it, as the test's own check after the key returns comes later.
WATCH = """() => {
  window.raceWatch = {oobErrors: 0, keysDuringSwap: 0, keysWhileLoading: []};
  document.body.addEventListener("htmx:oobErrorNoTarget", () => window.raceWatch.oobErrors++);
  document.addEventListener("keydown", (event) => {
    if ("123".includes(event.key)) {
      window.raceWatch.keysWhileLoading.push(!!document.querySelector("a.claim.htmx-request"));
    }
  }, {capture: true});
}"""
# Presses the key from inside the page at the moment the new panel has been swapped in
# and htmx has not yet processed it (it does so when it settles, 20 ms later).
PRESS_DURING_SWAP = """(key) => {
  const press = (event) => {
    if (!event.target.closest || !event.target.closest("#claim-panel")) return;
    document.removeEventListener("htmx:afterSwap", press);
    window.raceWatch.keysDuringSwap++;
    document.body.dispatchEvent(new KeyboardEvent("keydown", {key, bubbles: true}));
  };
  document.addEventListener("htmx:afterSwap", press);
}"""


def throttle(page: Page, latency_ms: int) -> None:
    """Add ``latency_ms`` to every request the page makes, as a slow network would."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": latency_ms, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def verdicts_of(analyst: Any) -> dict[int, tuple[str, int]]:
    rows = Verdict.objects.filter(analyst=analyst).values_list("claim_id", "status", "version")
    return {claim_id: (status, version) for claim_id, status, version in rows}


def race_through_claims(
    page: Page, article: Article, analyst: Any, press_after_j: Callable[[str], None]
) -> None:
    """Twenty rounds of `j` and a verdict key, the key pressed by ``press_after_j``."""
    claims = list(article.claims.order_by("ordinal")[: ROUNDS + 1])
    page.goto(article_path(article, claims[0]))
    panel = page.locator("#claim-panel")
    expect(panel).to_have_attribute("data-claim", str(claims[0].pk))
    page.evaluate(WATCH)
    documents: list[str] = []
    page.on("request", lambda r: r.resource_type == "document" and documents.append(r.url))
    throttle(page, LATENCY_MS)

    for round_, (previous, shown, key) in enumerate(
        zip(claims, claims[1:], cycle(KEYS), strict=False), start=1
    ):
        status = KEYS[key]
        before = verdicts_of(analyst)
        press_after_j(key)
        settled(page)
        where = f"round {round_}: j then {key} from claim {previous.ordinal}"
        assert documents == [], f"{where}: a full-page request went out: {documents}"
        expect(panel).to_have_attribute("data-claim", str(shown.pk))
        after = verdicts_of(analyst)
        assert after.get(previous.pk) == before.get(previous.pk), (
            f"{where}: the previous claim changed from {before.get(previous.pk)}"
            f" to {after.get(previous.pk)}"
        )
        changed = {pk for pk in after.keys() | before.keys() if after.get(pk) != before.get(pk)}
        assert changed <= {shown.pk}, f"{where}: verdicts changed on {changed}"
        if changed:
            assert after[shown.pk][0] == status, where
        assert page.evaluate("() => window.raceWatch.oobErrors") == 0, where

        # Once the panel has loaded, the key acts on the claim the person sees.
        page.keyboard.press(key)
        expect(panel.locator("#verdict-h .badge")).to_have_text(status.title())
        settled(page)
        assert verdicts_of(analyst)[shown.pk][0] == status, where
        assert verdicts_of(analyst).get(previous.pk) == before.get(previous.pk), where


@pytest.mark.browser
def test_verdict_key_right_after_j_never_lands_on_the_previous_claim(
    login_as: Callable[[Any], Page], sample_article: Article, bob: Any
) -> None:
    page = login_as(bob)

    def press_after_j(key: str) -> None:
        page.keyboard.press("j")
        page.keyboard.press(key)
        # The network is slow enough that the key came while the next panel was loading,
        # as the page saw it when the key came (asked afterwards, a busy machine may
        # already have finished the load).
        assert page.evaluate("() => window.raceWatch.keysWhileLoading.at(-1)") is True

    race_through_claims(page, sample_article, bob, press_after_j)


@pytest.mark.browser
def test_verdict_key_while_the_panel_is_swapped_in_never_posts_the_whole_page(
    login_as: Callable[[Any], Page], sample_article: Article, bob: Any
) -> None:
    page = login_as(bob)

    def press_after_j(key: str) -> None:
        page.evaluate(PRESS_DURING_SWAP, key)
        page.keyboard.press("j")

    race_through_claims(page, sample_article, bob, press_after_j)
    assert page.evaluate("() => window.raceWatch.keysDuringSwap") == ROUNDS


@pytest.mark.browser
def test_keys_pressed_while_a_verdict_saves_move_on_once_it_is_saved(
    login_as: Callable[[Any], Page], sample_article: Article, bob: Any
) -> None:
    """`2 j j` typed fast: the verdict lands on the claim on screen, then the panel moves
    two claims on; no answer meant for one claim is swapped into another's panel."""
    first, _second, third = sample_article.claims.order_by("ordinal")[:3]
    page = login_as(bob)
    page.goto(article_path(sample_article, first))
    panel = page.locator("#claim-panel")
    expect(panel).to_have_attribute("data-claim", str(first.pk))
    page.evaluate(WATCH)
    throttle(page, LATENCY_MS)

    for key in "2jj":
        page.keyboard.press(key)
    expect(panel).to_have_attribute("data-claim", str(third.pk))
    settled(page)
    expect(panel.locator("h2")).to_have_text(re.compile(rf"^Claim {third.ordinal}\b"))
    expect(panel.locator("#verdict-h")).to_have_text("Your verdict")
    assert verdicts_of(bob) == {first.pk: ("disputed", 1)}
    assert page.evaluate("() => window.raceWatch.oobErrors") == 0


@pytest.mark.browser
def test_a_step_kept_while_the_text_settles_is_taken_when_it_has_settled(
    login_as: Callable[[Any], Page], sample_article: Article, bob: Any
) -> None:
    """`j` pressed while part of the text is still settling is kept, and taken once that
    is over, even when no request or settle event follows to say so: under load, CI once
    saw the last event come while a class was still in place, and `j` stop for good."""
    claims = list(sample_article.claims.order_by("start"))
    page = login_as(bob)
    page.goto(article_path(sample_article, claims[0]))
    settled(page)
    panel = page.locator("#claim-panel")
    expect(panel).to_have_attribute("data-claim", str(claims[0].pk))
    # A claim of the text looks as if it were still settling: keys wait for it.
    page.evaluate("() => document.querySelector('.reading a.claim').classList.add('htmx-settling')")
    page.keyboard.press("j")
    page.wait_for_timeout(300)
    expect(panel).to_have_attribute("data-claim", str(claims[0].pk))
    # It settles without an htmx event: the kept step is taken all the same.
    page.evaluate(
        "() => document.querySelector('.reading a.claim').classList.remove('htmx-settling')"
    )
    expect(panel).to_have_attribute("data-claim", str(claims[1].pk))
