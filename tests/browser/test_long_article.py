"""A long article in the browser: the first page comes alone, the next loads as the reader
scrolls to its end, `j` and `k` go on into the pages not yet loaded (and say which claim
of all the article's they are on), and without JavaScript the pages are plain links.
Pages here hold ten claims (``reading.PAGE_CLAIMS``; the live server runs in this process)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from claims import reading
from claims.models import Article, Project
from tests.browser.screens import article_path, claim_span, log_in, settled
from tests.factories import make_article

PAGE = 10
CLAIMS = 30


@pytest.fixture
def long_article(project: Project, alice: Any, monkeypatch: pytest.MonkeyPatch) -> Article:
    """Thirty claims, two to a paragraph, each a long sentence: a page is taller than the
    window, so that the next one loads only when it is scrolled to."""
    monkeypatch.setattr(reading, "PAGE_CLAIMS", PAGE)
    sentences = [
        f"Point {n} was reported by the regional ministry of the interior in a statement "
        "that the council published on its website after the meeting on trade."
        for n in range(1, CLAIMS + 1)
    ]
    paragraphs = [" ".join(sentences[i : i + 2]) for i in range(0, CLAIMS, 2)]
    text = "A Long Record of the Districts\n\n" + "\n\n".join(paragraphs) + "\n"
    return make_article(project, text, actor=alice, filename="long.txt")


def claims_of(article: Article) -> list[Any]:
    return list(article.claims.order_by("start"))


def loaded(page: Page) -> Any:
    return page.locator("a.claim")


@pytest.mark.browser
def test_the_next_page_loads_as_the_reader_scrolls_to_it(
    login_as: Callable[[Any], Page], long_article: Article, bob: Any
) -> None:
    page = login_as(bob)
    page.goto(article_path(long_article))
    settled(page)
    page.evaluate("() => { window.samePage = true; }")  # gone if the page reloads
    expect(loaded(page)).to_have_count(PAGE)
    page.locator('a[data-page="next"]').scroll_into_view_if_needed()
    expect(loaded(page)).to_have_count(2 * PAGE)
    claims = claims_of(long_article)
    expect(claim_span(page, claims[PAGE])).to_be_attached()
    assert page.evaluate("() => window.samePage") is True
    # The claims keep their order, and nothing came twice.
    ids = loaded(page).evaluate_all("spans => spans.map(s => Number(s.dataset.claim))")
    assert ids == [c.pk for c in claims[: 2 * PAGE]]


@pytest.mark.browser
def test_j_goes_on_into_the_next_page_and_k_back_into_the_one_before(
    login_as: Callable[[Any], Page], long_article: Article, bob: Any
) -> None:
    claims = claims_of(long_article)
    page = login_as(bob)
    page.set_viewport_size({"width": 1280, "height": 500})
    announced, panel = page.locator("#announce"), page.locator("#claim-panel")
    # From a claim far in: its page, with some of the text before it.
    far = claims[24]
    page.goto(article_path(long_article, far))
    settled(page)
    assert claims[0].pk not in loaded(page).evaluate_all(
        "spans => spans.map(s => Number(s.dataset.claim))"
    )
    # `k` past the first claim loaded: the page before loads, and the steps go on there.
    for _ in range(12):
        page.keyboard.press("k")
    back = claims[24 - 12]
    expect(panel).to_have_attribute("data-claim", str(back.pk))
    expect(claim_span(page, back)).to_be_focused()
    expect(announced).to_have_text(f"Claim {back.ordinal} of {CLAIMS}, not tagged by you")
    settled(page)
    # And `j` to the end of the article, through the pages after.
    for _ in range(CLAIMS):
        page.keyboard.press("j")
    last = claims[-1]
    expect(panel).to_have_attribute("data-claim", str(last.pk))
    expect(claim_span(page, last)).to_be_focused()
    expect(announced).to_have_text(f"Claim {last.ordinal} of {CLAIMS}, not tagged by you")
    settled(page)
    expect(page.locator('a[data-page="next"]')).to_have_count(0)


@pytest.mark.browser
def test_a_verdict_given_on_a_later_page_is_kept(
    login_as: Callable[[Any], Page], long_article: Article, bob: Any
) -> None:
    """The claims of a page loaded after the first are claims like the others."""
    claims = claims_of(long_article)
    page = login_as(bob)
    page.goto(article_path(long_article))
    settled(page)
    page.locator('a[data-page="next"]').scroll_into_view_if_needed()
    target = claims[PAGE + 3]
    claim_span(page, target).click()
    expect(page.locator("#claim-panel")).to_have_attribute("data-claim", str(target.pk))
    settled(page)
    page.keyboard.press("2")
    expect(claim_span(page, target)).to_have_class(re.compile(r"(^|\s)v-disputed(\s|$)"))
    assert target.verdicts.get(analyst=bob).status == "disputed"


@pytest.mark.browser
def test_without_javascript_the_pages_are_links(
    without_javascript: Page, long_article: Article, bob: Any
) -> None:
    page = without_javascript
    claims = claims_of(long_article)
    log_in(page, bob.get_username())
    page.goto(article_path(long_article))
    expect(loaded(page)).to_have_count(PAGE)
    page.get_by_role("link", name="Next page").click()
    page.wait_for_url(re.compile(r"\?from=\d+$"))
    expect(loaded(page)).to_have_count(PAGE)
    expect(claim_span(page, claims[PAGE])).to_be_visible()
    page.get_by_role("link", name="Previous page").click()
    page.wait_for_url(re.compile(r"\?before=\d+$"))
    expect(claim_span(page, claims[0])).to_be_visible()
    expect(page.get_by_role("link", name="Previous page")).to_have_count(0)
