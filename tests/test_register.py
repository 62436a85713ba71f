"""The claim register (claims/views/register.py, claims/register.py): every current claim
of a project, its filters, search, keyset pages, exports, and what it costs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from django.urls import reverse

from claims.models import Claim, Project, Stance
from tests.base import HTMX, body, client_for, html, url
from tests.factories import make_article


def register(client: Any, **query: Any) -> Any:
    return client.get(url("claim-register"), query)


def listed(response: Any) -> list[int]:
    assert response.status_code == 200, body(response)
    return [int(a.attrs["data-claim"] or 0) for a in html(response).select("a", class_="claim")]


def many(n: int) -> str:
    """An article of ``n`` claims, one a sentence, in two sections."""
    half = n // 2
    first = " ".join(f"Statement number {i} concerns the grain deal." for i in range(half))
    second = " ".join(f"Statement number {i} concerns the gas deal." for i in range(half, n))
    return f"Many Claims\n\nFirst\n\n{first}\n\nSecond\n\n{second}\n"


def test_every_current_claim_is_listed(article: Any, bob: Any) -> None:
    ids = list(Claim.objects.filter(article=article).order_by("start").values_list("pk", flat=True))
    assert listed(register(client_for(bob))) == ids


def test_each_claim_links_to_its_place_in_its_article(article: Any, claim: Any, bob: Any) -> None:
    page = html(register(client_for(bob)))
    link = page.by_id(f"claim-{claim.pk}")
    where = reverse("article-detail", args=["demo", article.pk])
    assert link.attrs["href"] == f"{where}?claim={claim.pk}#claim-{claim.pk}"
    assert link.attrs["hx-get"] == url("claim-panel", claim.pk)
    assert link.attrs["hx-target"] == "#claim-panel"


def test_the_search_lists_matches_with_their_marked_fragment(article: Any, bob: Any) -> None:
    response = register(client_for(bob), q="ministry")
    (found,) = listed(response)
    assert "ministry" in Claim.objects.with_text().get(pk=found).text
    fragment = html(response).select("p", class_="fragment")[0]
    assert any(not isinstance(p, str) and p.tag == "mark" for p in fragment.parts)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"q": "-ministry"}, "besides what to leave out"),
        ({"q": "* ( )"}, "Type a word"),
        ({"cited_from": "2021-13-01"}, "Enter a valid date"),
        ({"cited_from": "2021-05-01", "cited_to": "2021-04-01"}, "must not come after"),
        ({"sort": "random()"}, "Select a valid choice"),
        ({"verdict": "maybe"}, "Select a valid choice"),
        ({"article": "x"}, "Select a valid choice"),
        ({"q": "x" * 201}, "at most 200 characters"),
    ],
)
def test_bad_filters_say_what_is_wrong(
    article: Any, bob: Any, query: dict[str, str], message: str
) -> None:
    response = register(client_for(bob), **query)
    assert response.status_code == 422
    (alert,) = html(response).select("div", class_="notice error", role="alert")
    assert message in alert.content()
    assert listed_anyway(response) == []


def listed_anyway(response: Any) -> list[int]:
    return [int(a.attrs["data-claim"] or 0) for a in html(response).select("a", class_="claim")]


@pytest.mark.parametrize("query", ['"', "NEAR(a b)", "gas*", "a:b", "'; DROP TABLE x; --", "(("])
def test_hostile_searches_never_fail(article: Any, bob: Any, query: str) -> None:
    response = register(client_for(bob), q=query)
    assert response.status_code in (200, 422)
    assert Claim.objects.filter(article=article).exists()


def test_the_verdict_filter_is_mine(article: Any, bob: Any, carol: Any) -> None:
    first, second, *_rest = Claim.objects.filter(article=article).order_by("start")
    first.set_verdict(bob, "disputed")
    second.set_verdict(carol, "disputed")
    client = client_for(bob)
    assert listed(register(client, verdict="disputed")) == [first.pk]
    assert first.pk not in listed(register(client, verdict="untagged"))
    assert second.pk in listed(register(client, verdict="untagged"))


def test_the_consensus_filter(article: Any, bob: Any, carol: Any, rita: Any) -> None:
    first, second, third, *_rest = Claim.objects.filter(article=article).order_by("start")
    first.set_verdict(bob, "disputed")
    first.set_verdict(carol, "supported")
    second.set_verdict(bob, "supported")
    second.set_verdict(carol, "supported")
    third.adjudicate(rita, "outdated", rationale="Old news")
    client = client_for(rita)
    assert listed(register(client, state="contested")) == [first.pk]
    assert listed(register(client, state="unanimous")) == [second.pk]
    assert listed(register(client, state="adjudicated")) == [third.pk]
    assert third.pk not in listed(register(client, state="unreviewed"))


def test_a_blind_analyst_sees_states_only_where_they_tagged(
    project: Project, article: Any, bob: Any, carol: Any
) -> None:
    Project.objects.filter(pk=project.pk).update(blind=True)
    first, second, *_rest = Claim.objects.filter(article=article).order_by("start")
    for claim in (first, second):
        claim.set_verdict(bob, "disputed", rationale="Bob's secret reasoning")
        claim.set_verdict(carol, "supported")
    client = client_for(carol)
    Claim.objects.get(pk=second.pk).clear_verdict(carol, expected_version=1)
    assert listed(register(client, state="contested")) == [first.pk]
    page = body(register(client))
    assert "Hidden until you tag" in page
    assert listed(register(client, q="secret")) == []
    assert set(listed(register(client_for(bob), q="secret"))) == {first.pk, second.pk}
    exported = json.loads(body(register(client, format="json")))["claims"]
    hidden = next(c for c in exported if c["claim"] == second.pk)
    assert hidden["state"] is None and hidden["disputed"] is None


def test_the_due_filter(project: Project, article: Any, bob: Any) -> None:
    first, second, *_rest = Claim.objects.filter(article=article).order_by("start")
    first.set_verdict(bob, "disputed", recheck_by=dt.date.today() + dt.timedelta(days=1))
    second.set_verdict(bob, "supported")
    first.verdicts.update(checked_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), recheck_by=None)
    client = client_for(bob)
    assert listed(register(client, due="due")) == [first.pk]
    assert listed(register(client, due="fresh")) == [second.pk]


def test_article_section_outlet_and_dates(
    project: Project, article: Any, alice: Any, bob: Any
) -> None:
    other = make_article(project, many(4), actor=alice, filename="many.txt")
    client = client_for(bob)
    mine = list(Claim.objects.filter(article=other).order_by("start").values_list("pk", flat=True))
    assert listed(register(client, article=other.pk)) == mine
    seconds = listed(register(client, section="Second"))
    assert seconds == mine[2:]
    # Typed as it is read, whatever its case, as the outlet.
    assert listed(register(client, section="second")) == seconds
    cited = Claim.objects.filter(citations__outlet="Kremlin.ru")
    assert listed(register(client, outlet="kremlin.ru")) == [c.pk for c in cited]
    assert listed(register(client, cited_from="2021-08-01", cited_to="2021-08-31")) == [
        c.pk for c in cited
    ]
    assert listed(register(client, cited_from="2021-09-01")) == []


def every_page(client: Any, **query: Any) -> list[int]:
    """Follow the Next links from the first page to the last."""
    seen: list[int] = []
    response = register(client, **query)
    for _ in range(20):
        seen += listed(response)
        links = html(response).select("a", rel="next")
        if not links:
            return seen
        response = client.get(url("claim-register") + (links[0].attrs["href"] or ""))
    raise AssertionError("too many pages")


@pytest.mark.parametrize("sort", ["article", "changed", "rank"])
def test_pages_follow_each_other_without_gaps_or_repeats(
    project: Project, alice: Any, bob: Any, sort: str
) -> None:
    first = make_article(project, many(70), actor=alice, filename="a.txt")
    second = make_article(
        project,
        many(40).replace("Many", "More"),
        actor=alice,
        filename="b.txt",
        published_on=dt.date(2022, 1, 1),
    )
    claims = list(Claim.objects.filter(article__project=project))
    for claim in claims[::7]:
        claim.set_verdict(bob, "supported")
    query = {"sort": sort, **({"q": "statement OR grain"} if sort == "rank" else {})}
    seen = every_page(client_for(bob), **query)
    assert len(seen) == len(set(seen)) == 110
    if sort == "article":
        newest = list(
            Claim.objects.filter(article=second).order_by("start").values_list("pk", flat=True)
        )
        assert seen[:40] == newest
        assert first.claims.count() == 70


def test_a_broken_page_link_says_so(article: Any, bob: Any) -> None:
    for after in ["x", "2021-01-01_1", "2021-99-01_1_1_1", "1_1_1_99999999999999999999"]:
        response = register(client_for(bob), after=after)
        assert response.status_code == 400
        assert "page link is broken" in body(response)
    response = register(client_for(bob), after="nan_1", q="ministry")
    assert response.status_code == 400


def test_exports_give_what_the_filters_find(article: Any, bob: Any) -> None:
    client = client_for(bob)
    found = listed(register(client, q="ministry OR moscow"))
    response = register(client, q="ministry OR moscow", format="csv")
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body(response).lstrip("\ufeff"))))
    assert [int(r["claim"]) for r in rows] == found
    assert all(float(r["rank"]) > 0 for r in rows)
    data = json.loads(body(register(client, q="ministry OR moscow", format="json")))
    assert [c["claim"] for c in data["claims"]] == found
    assert register(client, format="xml").status_code == 400


def test_an_export_streams_every_page(project: Project, alice: Any, bob: Any) -> None:
    make_article(project, many(1030), actor=alice, filename="a.txt")  # three export pages
    data = json.loads(body(register(client_for(bob), format="json")))
    assert len(data["claims"]) == len({c["claim"] for c in data["claims"]}) == 1030


def test_without_htmx_the_filters_are_a_plain_get_form(article: Any, bob: Any) -> None:
    page = html(register(client_for(bob)))
    (form,) = page.select("form", id="filters")
    assert form.attrs["method"] == "get"
    assert form.attrs["action"] == url("claim-register")
    assert page.select("button", type="submit")


def test_the_filters_do_not_each_say_they_are_optional(article: Any, alice: Any, bob: Any) -> None:
    """Every filter is optional: its label says what it filters, without "(optional)",
    which the forms that also have required fields keep (the import form's title)."""
    (form,) = html(register(client_for(bob))).select("form", id="filters")
    labels = [label.content().strip() for label in form.select("label")]
    assert "Search" in labels and "Cited outlet" in labels
    assert not [label for label in labels if "optional" in label]
    importer = client_for(alice).get(url("article-import"))
    assert "(optional)" in importer.content.decode()


def test_with_htmx_only_the_results_come_back(article: Any, bob: Any) -> None:
    response = client_for(bob).get(url("claim-register"), {"q": "ministry"}, **HTMX)
    text = body(response)
    assert text.lstrip().startswith('<div id="register-results"')
    assert "<form" not in text.split('id="claim-panel"')[0]


def test_outsiders_get_404_and_posts_405(article: Any, mallory: Any, bob: Any) -> None:
    assert register(client_for(mallory)).status_code == 404
    assert client_for(bob).post(url("claim-register")).status_code == 405


@pytest.mark.parametrize(
    "query", [{}, {"sort": "changed"}, {"q": "statement"}, {"q": "statement", "sort": "article"}]
)
def test_a_page_costs_the_same_whatever_the_size(
    project: Project, alice: Any, bob: Any, django_assert_num_queries: Any, query: dict[str, str]
) -> None:
    make_article(project, many(6), actor=alice, filename="a.txt")
    client = client_for(bob)
    register(client, **query)  # the session's first read
    with django_assert_num_queries(queries(query)) as small:
        listed(register(client, **query))
    make_article(project, many(80).replace("Many", "More"), actor=alice, filename="b.txt")
    for claim in Claim.objects.all()[::5]:
        claim.set_verdict(bob, "supported")
        claim.add_evidence(
            bob, url="https://example.org/", stance=Stance.SUPPORTS, note="statement"
        )
    with django_assert_num_queries(queries(query)) as large:
        assert len(listed(register(client, **query))) == 50
    assert len(small.captured_queries) == len(large.captured_queries)


def queries(query: dict[str, str]) -> int:
    # session, user, membership, articles (the form), claims, citations; a search adds
    # its match and its fragments.
    return 6 + (2 if "q" in query else 0)
