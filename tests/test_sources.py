"""The sources page: every cited outlet, its citations over time, and what became of the
claims citing it, on a fixed corpus; blind review; its query count at two sizes."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims import sources
from claims.models import Claim, Member, Project, Role
from tests.base import client_for, html, url
from tests.factories import make_article

ALPHA = (
    "Alpha\n\nTanks crossed the border near Kharkiv (TASS, March 3, 2021). "
    "Talks failed in Minsk last week (Reuters, March 4, 2021).\n"
)
BETA = (
    "Beta\n\nGas flows to Europe fell sharply (TASS, May 2020). "
    "Grain exports rose to a record (TASS, June 1, 2021). Nobody cited this at all.\n"
)


def claim_with(words: str) -> Claim:
    return next(c for c in Claim.objects.all() if words in c.text)


@pytest.fixture
def corpus(project: Project, bob: Any, carol: Any, rita: Any) -> Project:
    make_article(project, ALPHA, filename="alpha.txt")
    make_article(project, BETA, filename="beta.txt")
    tanks = claim_with("Tanks crossed")
    tanks.set_verdict(bob, "disputed")
    tanks.set_verdict(carol, "disputed")  # unanimous: disputed
    claim_with("Gas flows").adjudicate(rita, "supported", rationale="Pipeline data.")
    claim_with("Talks failed").set_verdict(bob, "supported")  # one verdict: no answer yet
    return project


def by_name(member: Member) -> dict[str, sources.Outlet]:
    outlets, _years = sources.outlets(member)
    return {o.name: o for o in outlets}


def test_figures_on_a_fixed_corpus(corpus: Project, alice: Any) -> None:
    outlets, years = sources.outlets(Member(alice, corpus, Role.ADMIN))
    assert [o.name for o in outlets] == ["TASS", "Reuters"]  # most cited first
    assert years == [2020, 2021]
    tass, reuters = outlets
    assert (tass.citations, tass.undated, dict(tass.per_year)) == (3, 0, {2020: 1, 2021: 2})
    assert tass.months == [("2020-05", 1), ("2021-03", 1), ("2021-06", 1)]
    assert len(tass.claims) == 3
    assert dict(tass.outcomes) == {"disputed": 1, "supported": 1, "undecided": 1}
    assert tass.disputed_share == 0.5 and tass.hidden == 0
    assert [(b.year, b.count) for b in tass.bars] == [(2020, 1), (2021, 2)]
    assert tass.bars[1].height == sources.SPARK_HEIGHT and tass.bars[0].height == 12.0
    assert (reuters.citations, dict(reuters.outcomes), reuters.disputed_share) == (
        1,
        {"undecided": 1},
        None,
    )


def test_the_page_shows_each_outlet_with_its_chart(corpus: Project, victor: Any) -> None:
    response = client_for(victor).get(url("sources"))
    assert response.status_code == 200
    page = html(response)
    row = page.by_id("outlet-1")
    cells = [c.content().strip() for c in row.select("td")]
    assert row.select("th")[0].content() == "TASS"
    assert cells[0] == "3" and cells[2] == "3"
    (chart,) = row.select("svg", class_="spark")
    assert chart.attrs["aria-label"] == "Citations per year: 2020 1, 2021 2"
    assert len(chart.select("rect")) == 2
    assert "50%" in row.content()


def test_blind_review_counts_unseen_claims_as_hidden(corpus: Project, bob: Any) -> None:
    Project.objects.filter(pk=corpus.pk).update(blind=True)
    corpus.refresh_from_db()
    tass = by_name(Member(bob, corpus, Role.ANALYST))["TASS"]
    # Bob gave a verdict on the tanks claim only (among TASS's): the rest are hidden.
    assert dict(tass.outcomes) == {"disputed": 1} and tass.hidden == 2
    page = html(client_for(bob).get(url("sources")))
    assert "counted as hidden" in page.content()


def test_a_project_without_citations_says_so(project: Project, alice: Any) -> None:
    make_article(project, "Plain\n\nNothing here cites anyone.\n", filename="plain.txt")
    response = client_for(alice).get(url("sources"))
    assert "No article of this project cites a source yet." in response.content.decode()


def test_outsiders_get_404_and_wrong_methods_405(corpus: Project, mallory: Any, alice: Any):
    assert client_for(mallory).get(url("sources")).status_code == 404
    assert client_for(alice).post(url("sources")).status_code == 405


def grow(project: Project, first: int, last: int, bob: Any) -> None:
    for n in range(first, last):
        text = ALPHA.replace("Alpha", f"Alpha {n}").replace("Kharkiv", f"Kharkiv {n}")
        article = make_article(project, text, filename=f"a{n}.txt")
        article.claims.order_by("start").first().set_verdict(bob, "disputed")


def test_the_query_count_does_not_grow_with_the_corpus(project: Project, bob: Any) -> None:
    client = client_for(bob)
    counts = []
    for start, size in ((0, 2), (2, 8)):
        grow(project, start, size, bob)
        client.get(url("project-detail"))  # the session, as a browser's already is
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("sources")).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] == 8
