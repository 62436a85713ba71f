"""The article screen's filters: they apply as they change (htmx), keep the open claim while
it still matches, and without JavaScript land at it; the as-of moments say they are UTC."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.base import Node, client_for, html, url


@pytest.fixture
def tagged(article: Any, bob: Any) -> Any:
    """bob supports the first claim; the others he has not tagged."""
    first = article.claims.order_by("start").first()
    first.set_verdict(bob, "supported")
    return first


def screen(client: Any, claim: Any, query: str) -> Node:
    response = client.get(url("article-detail", claim.article_id) + query)
    assert response.status_code == 200
    return html(response)


def open_claim(page: Node) -> str | None:
    return page.by_id("claim-panel").attrs.get("data-claim")


def test_the_open_claim_stays_open_while_it_matches_the_filters(tagged: Any, bob: Any) -> None:
    client = client_for(bob)
    kept = screen(client, tagged, f"?show=supported&section=&q=&keep={tagged.pk}")
    assert open_claim(kept) == str(tagged.pk)
    assert "selected" in kept.by_id(f"claim-{tagged.pk}").classes()
    dropped = screen(client, tagged, f"?show=untagged&section=&q=&keep={tagged.pk}")
    assert open_claim(dropped) is None
    assert "dim" in dropped.by_id(f"claim-{tagged.pk}").classes()
    searched = screen(client, tagged, f"?show=all&q=no+such+words&keep={tagged.pk}")
    assert open_claim(searched) is None


def test_a_claim_asked_for_opens_whatever_the_filters(tagged: Any, bob: Any) -> None:
    """``?claim=`` is a claim opened on purpose (a link, a saved verdict): it opens even
    when it no longer matches, as after tagging it under "Not yet tagged by me"."""
    page = screen(client_for(bob), tagged, f"?show=untagged&claim={tagged.pk}")
    assert open_claim(page) == str(tagged.pk)


@pytest.mark.parametrize("keep", ["abc", "-1", "99999999", "1" * 30])
def test_a_keep_that_names_no_claim_opens_none(tagged: Any, bob: Any, keep: str) -> None:
    assert open_claim(screen(client_for(bob), tagged, f"?keep={keep}")) is None


def test_the_filters_apply_as_they_change_and_keep_their_button(tagged: Any, bob: Any) -> None:
    page = screen(client_for(bob), tagged, f"?claim={tagged.pk}")
    form = page.by_id("filters")
    assert form.attrs["hx-get"] == url("article-detail", tagged.article_id)
    trigger = form.attrs["hx-trigger"] or ""
    assert "change from:find select" in trigger
    assert "input changed delay:300ms from:find input[type=search]" in trigger
    assert (form.attrs["hx-target"], form.attrs["hx-select"]) == ("#columns", "#columns")
    assert form.attrs["hx-push-url"] == "true"
    assert page.by_id("columns").select("aside", id="claim-panel")
    assert form.select("button", type="submit")  # without JavaScript
    # The open claim goes with the filters (from the panel, which changes with it) ...
    (keep,) = page.by_id("claim-panel").select("input", name="keep")
    assert (keep.attrs["form"], keep.attrs["value"]) == ("filters", str(tagged.pk))
    # ... and without JavaScript the page comes back at it.
    assert form.attrs["action"] == f"#claim-{tagged.pk}"


def test_without_an_open_claim_the_filters_post_to_the_page_itself(tagged: Any, bob: Any) -> None:
    page = screen(client_for(bob), tagged, "")
    assert page.by_id("filters").attrs["action"] == ""
    assert page.by_id("claim-panel").select("input", name="keep") == []


def test_the_parts_filters_change_outside_the_columns_have_ids(tagged: Any, bob: Any) -> None:
    """htmx takes them from the answer out of band (``hx-select-oob``)."""
    plain = screen(client_for(bob), tagged, "")
    assert plain.by_id("clear-filters").content() == ""
    filtered = screen(client_for(bob), tagged, "?show=supported")
    assert filtered.by_id("clear-filters").content() == "Clear filters"
    assert (
        filtered.by_id("match-count").content()
        == f"1 of {tagged.article.claims.count()} claims match"
    )
    oob = plain.by_id("filters").attrs["hx-select-oob"] or ""
    assert set(oob.split(",")) == {"#match-count", "#clear-filters"}


def test_the_open_claim_stays_open_at_a_past_moment_too(tagged: Any, bob: Any) -> None:
    moment = (timezone.now() + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    query = f"?as_of={moment}&show=supported&keep={tagged.pk}"
    assert open_claim(screen(client_for(bob), tagged, query)) == str(tagged.pk)


def test_as_of_inputs_say_they_are_utc(tagged: Any, victor: Any) -> None:
    client = client_for(victor)
    pages = [
        client.get(url("article-detail", tagged.article_id)),
        client.get(url("article-consensus", tagged.article_id)),
    ]
    for response in pages:
        labels = html(response).find(
            lambda n: n.tag == "label" and bool(n.select("input", type="datetime-local"))
        )
        assert [label.content().strip() for label in labels] == ["As of (UTC)"]
