"""On a phone (390 × 844, touch): no page scrolls sideways, and a tapped claim's panel opens
where the person is, as a sheet over the bottom of the screen, with and without JavaScript."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from claims.models import Article, Verdict
from tests.browser.screens import article_path, claim_span, log_in, settled

PHONE: ViewportSize = {"width": 390, "height": 844}
# A mobile browser widens its layout viewport (innerWidth) to content that sticks out and
# zooms out to fit, so the page is measured against the phone's width too. The elements
# that stick out past it are listed for the failure message.
SIDEWAYS = """(width) => {
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 0.5 && !el.parentElement.closest(".table-scroll, svg")) {
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "");
      out.push(name + " ends at " + Math.round(box.right));
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth, out: out.slice(0, 5)};
}"""


def sideways(page: Page) -> dict[str, Any] | None:
    """How the page sticks out sideways at the phone's width, or None when it does not."""
    measured: dict[str, Any] = page.evaluate(SIDEWAYS, PHONE["width"])
    fits = measured["scrollWidth"] <= measured["innerWidth"] == PHONE["width"]
    return None if fits else measured


@pytest.fixture
def phone(browser: Browser, live_server: Any) -> Iterator[Callable[..., Page]]:
    """``phone(user)``: a phone-sized touch screen, logged in as that person."""
    pages: list[Page] = []

    def open_(user: Any, *, javascript: bool = True) -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            java_script_enabled=javascript,
        )
        pages.append(context.new_page())
        log_in(pages[-1], user.get_username())
        return pages[-1]

    yield open_
    for page in pages:
        page.context.close()


def in_viewport(page: Page, locator: Locator) -> bool:
    box = locator.bounding_box()
    assert box is not None
    return box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"] and box["height"] > 0


def disagreement(article: Article, bob: Any, carol: Any) -> Any:
    """A claim two analysts disagree on, with rationales; it shows on every page."""
    claim = article.claims.order_by("ordinal")[1]
    claim.set_verdict(bob, "supported", rationale="The readout says so; " + "x" * 80)
    claim.set_verdict(carol, "disputed", rationale="https://example.org/" + "a" * 120)
    return claim


@pytest.mark.browser
def test_no_page_scrolls_sideways_on_a_phone(
    phone: Callable[..., Page], sample_article: Article, alice: Any, bob: Any, carol: Any
) -> None:
    claim = disagreement(sample_article, bob, carol)
    slug, pk = sample_article.project.slug, sample_article.pk
    paths = [
        "/",
        f"/p/{slug}/",
        article_path(sample_article, claim),
        f"/p/{slug}/a/{pk}/consensus/",
        f"/p/{slug}/consensus/",
        f"/p/{slug}/queue/",
        f"/p/{slug}/c/{claim.pk}/history/",
        f"/p/{slug}/a/{pk}/activity/",
        f"/p/{slug}/activity/",
        f"/p/{slug}/members/",
        f"/p/{slug}/import/",
        f"/p/{slug}/audit/export/",
        "/password/",
        "/keys/",
    ]
    page = phone(alice)
    wide = {}
    for path in paths:
        page.goto(path)
        if (measured := sideways(page)) is not None:
            wide[path] = measured
    assert wide == {}


@pytest.mark.browser
def test_a_tapped_claim_opens_its_panel_as_a_sheet_where_the_person_is(
    phone: Callable[..., Page], sample_article: Article, bob: Any
) -> None:
    page = phone(bob)
    page.goto(article_path(sample_article))
    claims = list(sample_article.claims.order_by("ordinal"))
    far, next_ = claims[60], claims[61]
    span = claim_span(page, far)
    span.scroll_into_view_if_needed()
    scrolled = page.evaluate("() => scrollY")
    assert scrolled > 5_000  # the claim is far down the article

    span.tap()
    panel = page.locator("#claim-panel")
    expect(panel).to_have_attribute("data-claim", str(far.pk))
    settled(page)
    assert in_viewport(page, panel), panel.bounding_box()
    assert in_viewport(page, panel.get_by_role("button", name="Disputed"))
    # The tapped claim is still in sight, above the sheet, and the page stayed where it was.
    claim_box, panel_box = span.bounding_box(), panel.bounding_box()
    assert claim_box is not None and panel_box is not None
    assert 0 <= claim_box["y"] < panel_box["y"], (claim_box, panel_box)
    assert abs(page.evaluate("() => scrollY") - scrolled) < PHONE["height"]

    panel.get_by_role("button", name="Disputed").tap()
    expect(panel.locator("#verdict-h .badge")).to_have_text("Disputed")
    assert Verdict.objects.get(analyst=bob, claim=far).status == "disputed"
    settled(page)

    # The next claim's panel takes the sheet's place; closing the sheet shows the text.
    claim_span(page, next_).tap()
    expect(panel).to_have_attribute("data-claim", str(next_.pk))
    settled(page)
    assert in_viewport(page, panel), (panel.bounding_box(), claim_span(page, next_).bounding_box())
    panel.get_by_role("link", name=f"Close claim {next_.ordinal}").tap()
    expect(panel).to_be_hidden()
    expect(claim_span(page, next_)).to_be_focused()
    assert sideways(page) is None


@pytest.mark.browser
def test_without_javascript_a_tapped_claim_opens_its_panel_in_sight_too(
    phone: Callable[..., Page], sample_article: Article, bob: Any
) -> None:
    page = phone(bob, javascript=False)
    page.goto(article_path(sample_article))
    far = sample_article.claims.order_by("ordinal")[60]
    claim_span(page, far).tap()
    page.wait_for_url(f"**?claim={far.pk}#claim-{far.pk}")
    panel = page.locator("#claim-panel")
    expect(panel).to_have_attribute("data-claim", str(far.pk))
    assert in_viewport(page, panel)
    assert in_viewport(page, claim_span(page, far))

    with page.expect_navigation():
        panel.get_by_role("button", name="Outdated").tap()
    expect(panel.locator("#verdict-h .badge")).to_have_text("Outdated")
    assert in_viewport(page, panel)
    with page.expect_navigation():
        panel.get_by_role("link", name=f"Close claim {far.ordinal}").tap()
    expect(panel).to_contain_text("Select a claim to tag it")
    assert sideways(page) is None
