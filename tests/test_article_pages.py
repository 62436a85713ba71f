"""A long article comes a page at a time: the first screen holds the first page and a link
to the next, which htmx loads as it is scrolled to and which is a plain link without
JavaScript; ``?claim=`` opens the page that holds the claim; filters and search run over
the whole article and page their matches; a page costs the same queries whatever the
article's length. Pages here hold four claims (``reading.PAGE_CLAIMS``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims import reading
from claims.models import Article, AuditEvent, Project
from tests.base import HTMX, Node, body, client_for, html, url
from tests.factories import make_article

PAGE = 4


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "PAGE_CLAIMS", PAGE)


def long_article(project: Project, paragraphs: int, per: int = 2, name: str = "a") -> Article:
    """Paragraphs of ``per`` one-claim sentences, "Point 1 ..." onward, under a title."""
    numbers = iter(range(1, paragraphs * per + 1))
    text = "\n\n".join(
        " ".join(f"Point {next(numbers)} was reported by the ministry." for _ in range(per))
        for _ in range(paragraphs)
    )
    return make_article(project, f"A Long Piece {name}\n\n{text}\n", filename=f"{name}.txt")


def in_order(article: Article) -> list[Any]:
    return list(article.claims.order_by("start"))


def spans(page: Node) -> list[int]:
    """The claims on the page, in order."""
    return [int(a.attrs["data-claim"] or 0) for a in page.select("a", class_="claim")]


def link(page: Node, side: str) -> Node | None:
    found = page.select("a", data_page=side)
    return found[0] if found else None


def get(client: Any, article: Article, query: str = "", **headers: Any) -> Node:
    response = client.get(url("article-detail", article.pk) + query, **headers)
    assert response.status_code == 200
    return html(response)


def test_a_long_article_opens_at_its_first_page_with_a_link_to_the_next(
    project: Project, bob: Any
) -> None:
    article = long_article(project, paragraphs=6)
    claims = in_order(article)
    page = get(client_for(bob), article)
    assert spans(page) == [c.pk for c in claims[:PAGE]]
    # Progress over the whole article is counted after the text shows: htmx asks for it
    # as the page loads (and without JavaScript, a link does).
    progress = page.by_id("progress")
    assert progress.attrs["hx-trigger"] == "load, verdict-changed from:body"
    assert "tagged" not in progress.content()
    assert progress.select("a")[0].attrs["href"] == url("article-progress", article.pk)
    counted = html(client_for(bob).get(url("article-progress", article.pk), **HTMX))
    assert "You: 0 of 12 tagged" in counted.by_id("progress").content()
    following = link(page, "next")
    assert following is not None
    href = following.attrs["href"]
    assert href == f"?from={claims[PAGE].block.ordinal}"
    assert following.attrs["hx-get"] == href
    assert "revealed" in (following.attrs["hx-trigger"] or "")
    assert link(page, "previous") is None


def test_progress_counts_the_whole_article_not_its_first_page(
    project: Project, bob: Any, carol: Any
) -> None:
    article = long_article(project, paragraphs=6)
    claims = in_order(article)
    for claim in claims[-3:]:
        claim.set_verdict(bob, "supported")
    claims[-1].set_verdict(carol, "disputed")
    claims[0].set_verdict(carol, "supported")
    claims[1].set_verdict(bob, "supported")
    claims[1].clear_verdict(bob, expected_version=1)  # a cleared verdict counts for nothing
    claims[1].set_verdict(carol, "supported")
    client = client_for(bob)
    meters = client.get(url("article-progress", article.pk), **HTMX)
    said = " ".join(html(meters).by_id("progress").content().split())
    assert "You: 3 of 12 tagged" in said
    assert "Team: 1 of 12 with ≥ 2 verdicts" in said


def test_the_next_links_walk_every_claim_once_and_the_previous_links_walk_back(
    project: Project, bob: Any
) -> None:
    """Without JavaScript: the links of whole screens, forward to the end and back."""
    article = long_article(project, paragraphs=7, per=3)
    client, seen, query = client_for(bob), [], ""
    while True:
        page = get(client, article, query)
        on_page = spans(page)
        assert 0 < len(on_page) <= PAGE
        seen += on_page
        following = link(page, "next")
        if following is None:
            break
        query = following.attrs["href"] or ""
    assert seen == [c.pk for c in in_order(article)]
    back: list[int] = []
    while True:
        back = spans(page) + back
        previous = link(page, "previous")
        if previous is None:
            break
        page = get(client, article, previous.attrs["href"] or "")
    assert back == seen


def test_with_htmx_a_page_beside_comes_alone_with_its_link_onward(
    project: Project, bob: Any
) -> None:
    article = long_article(project, paragraphs=6)
    claims, client = in_order(article), client_for(bob)
    following = link(get(client, article), "next")
    assert following is not None
    response = client.get(
        url("article-detail", article.pk) + (following.attrs["href"] or ""), **HTMX
    )
    text = body(response)
    assert "<html" not in text and 'id="progress"' not in text
    assert 'id="claim-panel"' not in text
    after = html(text)
    assert spans(after) == [c.pk for c in claims[PAGE : 2 * PAGE]]
    assert link(after, "previous") is None  # the page before it is on screen
    onward = link(after, "next")
    assert onward is not None and onward.attrs["href"] == f"?from={claims[8].block.ordinal}"
    # Backward, from the third page: the second, with the link to the first.
    before = get(client, article, f"?before={claims[8].block.ordinal}", **HTMX)
    assert spans(before) == [c.pk for c in claims[PAGE : 2 * PAGE]]
    assert link(before, "next") is None
    previous = link(before, "previous")
    assert (
        previous is not None and previous.attrs["href"] == f"?before={claims[PAGE].block.ordinal}"
    )


def test_a_claim_asked_for_opens_on_the_page_that_holds_it(project: Project, bob: Any) -> None:
    article = long_article(project, paragraphs=8)
    claims = in_order(article)
    far = claims[13]
    page = get(client_for(bob), article, f"?claim={far.pk}")
    assert far.pk in spans(page)
    assert "selected" in page.by_id(f"claim-{far.pk}").classes()
    assert page.by_id("claim-panel").attrs["data-claim"] == str(far.pk)
    assert link(page, "previous") is not None
    assert len(spans(page)) <= PAGE


def test_a_paragraph_longer_than_a_page_is_cut_between_claims(project: Project, bob: Any) -> None:
    article = long_article(project, paragraphs=1, per=10)
    claims, client = in_order(article), client_for(bob)
    pages, between, query = [], "", ""
    while True:
        page = get(client, article, query)
        pages.append(spans(page))
        (paragraph,) = page.select("article", class_="reading")[0].select("p", class_="cut")
        between += "".join(part for part in paragraph.parts if isinstance(part, str))
        following = link(page, "next")
        if following is None:
            break
        query = following.attrs["href"] or ""
        assert query.startswith("?from=") and "." in query  # a place inside the paragraph
    assert pages == [[c.pk for c in claims[i : i + PAGE]] for i in (0, 4, 8)]
    # The text between the claims comes once: the nine spaces between ten sentences.
    assert between == " " * 9


def test_filters_run_over_the_whole_article_and_page_their_matches(
    project: Project, bob: Any
) -> None:
    article = long_article(project, paragraphs=6)
    claims = in_order(article)
    for index in (0, 4, 8, 10):  # in the first, third, fifth and sixth paragraphs
        claims[index].set_verdict(bob, "supported")
    client = client_for(bob)
    first = get(client, article, "?show=supported")
    assert first.by_id("match-count").content() == "4 of 12 claims match"
    # Only the paragraphs that hold matches; the others' claims beside them are dimmed.
    assert spans(first) == [claims[i].pk for i in (0, 1, 4, 5)]
    assert "dim" in first.by_id(f"claim-{claims[1].pk}").classes()
    assert "dim" not in first.by_id(f"claim-{claims[4].pk}").classes()
    following = link(first, "next")
    assert following is not None
    assert following.attrs["href"] == f"?show=supported&from={claims[8].block.ordinal}"
    second = get(client, article, following.attrs["href"] or "")
    assert spans(second) == [claims[i].pk for i in (8, 9, 10, 11)]
    assert link(second, "next") is None


def test_search_finds_a_claim_on_a_late_page_first(project: Project, bob: Any) -> None:
    article = long_article(project, paragraphs=8)
    claims = in_order(article)
    page = get(client_for(bob), article, "?q=point+14+was")
    assert page.by_id("match-count").content() == "1 of 16 claims match"
    assert spans(page) == [claims[12].pk, claims[13].pk]
    assert "dim" not in page.by_id(f"claim-{claims[13].pk}").classes()
    assert link(page, "previous") is None and link(page, "next") is None


def test_a_kept_claim_far_away_stays_open_while_it_matches(project: Project, bob: Any) -> None:
    article = long_article(project, paragraphs=6)
    far = in_order(article)[10]
    client = client_for(bob)
    kept = get(client, article, f"?show=untagged&keep={far.pk}")
    assert kept.by_id("claim-panel").attrs["data-claim"] == str(far.pk)
    assert "selected" in kept.by_id(f"claim-{far.pk}").classes()
    far.set_verdict(bob, "disputed")
    dropped = get(client, article, f"?show=untagged&keep={far.pk}")
    assert dropped.by_id("claim-panel").attrs.get("data-claim") is None
    assert far.pk not in spans(dropped)


def test_a_claim_asked_for_shows_in_its_paragraph_even_when_it_does_not_match(
    project: Project, bob: Any
) -> None:
    article = long_article(project, paragraphs=6)
    claims = in_order(article)
    claims[0].set_verdict(bob, "supported")
    page = get(client_for(bob), article, f"?show=supported&claim={claims[10].pk}")
    assert page.by_id("claim-panel").attrs["data-claim"] == str(claims[10].pk)
    assert "dim" in page.by_id(f"claim-{claims[10].pk}").classes()
    assert page.by_id("match-count").content() == "1 of 12 claims match"


def test_the_screen_at_a_past_moment_pages_too(project: Project, bob: Any) -> None:
    article = long_article(project, paragraphs=6)
    claims, client = in_order(article), client_for(bob)
    claims[0].set_verdict(bob, "supported")
    moment = AuditEvent.objects.latest("seq").created_at
    claims[1].set_verdict(bob, "disputed")  # after the moment
    first = get(client, article, "?as_of=" + moment.strftime("%Y-%m-%dT%H:%M:%S.%f"))
    assert spans(first) == [c.pk for c in claims[:PAGE]]
    following = link(first, "next")
    assert following is not None
    # The next page is of the same moment, to the microsecond.
    assert following.attrs["href"] == f"?from={claims[PAGE].block.ordinal}&as_of=" + (
        moment.strftime("%Y-%m-%dT%H:%M:%S.%f").replace(":", "%3A")
    )
    assert "v-supported" in first.by_id(f"claim-{claims[0].pk}").classes()
    assert "v-none" in first.by_id(f"claim-{claims[1].pk}").classes()
    second = get(client, article, following.attrs["href"] or "", **HTMX)
    assert spans(second) == [c.pk for c in claims[PAGE : 2 * PAGE]]


@pytest.mark.parametrize("side", ["from", "before"])
@pytest.mark.parametrize(
    "place", ["abc", "-1", "1.", ".5", "1.2.3", "٣", "9" * 30, "9223372036854775807", "0.99"]
)
def test_a_place_that_names_no_page_changes_nothing(
    article: Article, bob: Any, side: str, place: str
) -> None:
    for headers in ({}, HTMX):
        response = client_for(bob).get(url("article-detail", article.pk), {side: place}, **headers)
        assert response.status_code == 200


def count(client: Any, path: str, **headers: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, **headers).status_code == 200
    return len(queries)


@pytest.mark.parametrize("query", ["", "?show=untagged", "?q=was+reported"])
def test_a_page_costs_the_same_queries_whatever_the_article_s_length(
    project: Project, bob: Any, carol: Any, query: str
) -> None:
    """The first screen, and the page after it (htmx, and the whole screen at it without)."""
    client, counted = client_for(bob), []
    for paragraphs, name in ((6, "small"), (30, "large")):
        article = long_article(project, paragraphs=paragraphs, name=name)
        for claim in in_order(article)[::3]:
            claim.set_verdict(carol, "supported")
        screen = url("article-detail", article.pk)
        client.get(screen)  # warm the session
        first = count(client, screen + query)
        following = link(get(client, article, query), "next")
        assert following is not None
        beside = screen + (following.attrs["href"] or "")
        far = in_order(article)[PAGE + 1]  # the page that holds it, with its panel
        opened = screen + (query + "&" if query else "?") + f"claim={far.pk}"
        counted.append(
            (first, count(client, beside, **HTMX), count(client, beside), count(client, opened))
        )
    assert counted[0] == counted[1]
    # Session, user, membership, article; the page's blocks, claims, citations, verdicts;
    # the screen's sections (its progress comes after). With filters, their matches and
    # the article's total ("4 of 12 claims match"). To open a claim,
    # its place, half a page before it, and its panel.
    filtered = 1 if query else 0
    assert counted[0] == (9 + 2 * filtered, 8 + filtered, 9 + 2 * filtered, 16 + 2 * filtered)


def test_the_first_screen_does_not_grow_with_the_article(project: Project, bob: Any) -> None:
    client, sizes = client_for(bob), []
    for paragraphs, name in ((6, "small"), (60, "large")):
        article = long_article(project, paragraphs=paragraphs, name=name)
        response = client.get(url("article-detail", article.pk))
        assert len(spans(html(response))) == PAGE
        sizes.append(len(response.content))
    assert abs(sizes[1] - sizes[0]) < 100  # the numbers' digits
