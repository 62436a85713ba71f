"""Pages and exports whose query count must not grow with the project: each is measured
at two sizes and must issue the same number of queries at both."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.models import Project
from tests.factories import add_member, make_article, make_user


def grow(project: Project, articles: int, claims: int, analysts: int) -> list[Any]:
    """Articles with contested claims, evidence and verdicts by several analysts."""
    people = [make_user(f"analyst-{articles}-{i}") for i in range(analysts)]
    for person in people:
        add_member(project, person, "analyst")
    made = []
    for a in range(articles):
        text = f"Article {a} Title\n\n" + " ".join(
            f"Claim {i} of article {a} holds." for i in range(claims)
        )
        article = make_article(project, text + "\n", filename=f"{a}.txt")
        for i, claim in enumerate(article.claims.order_by("start")):
            for j, person in enumerate(people):
                claim.set_verdict(person, ["supported", "disputed"][(i + j) % 2])
            claim.add_evidence(people[0], url=f"https://example.org/{a}/{i}", stance="context")
        made.append(article)
    return made


def count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(queries)


PAGES = {
    "project list": lambda article: reverse("project-list"),
    # A page of the text at a time (tests/test_article_pages.py has longer articles).
    "article screen": lambda article: reverse("article-detail", args=["demo", article.pk]),
    "article screen, from its second block": lambda article: (
        reverse("article-detail", args=["demo", article.pk]) + "?from=1"
    ),
    "project page": lambda article: reverse("project-detail", args=["demo"]),
    "members page": lambda article: reverse("project-members", args=["demo"]),
    "project consensus": lambda article: reverse("project-consensus", args=["demo"]),
    "queue": lambda article: reverse("queue", args=["demo"]),
    # Every verdict is due (evidence came after it): a page of rows at each size.
    "due queue, the team's": lambda article: reverse("due-queue", args=["demo"]) + "?whose=team",
    "due queue, mine": lambda article: reverse("due-queue", args=["demo"]) + "?whose=mine",
    "article consensus": lambda article: reverse("article-consensus", args=["demo", article.pk]),
    "article consensus CSV": lambda article: reverse(
        "article-consensus-export", args=["demo", article.pk, "csv"]
    ),
    "article consensus JSON": lambda article: reverse(
        "article-consensus-export", args=["demo", article.pk, "json"]
    ),
    "project consensus CSV": lambda article: reverse(
        "project-consensus-export", args=["demo", "csv"]
    ),
    "audit export page": lambda article: reverse("audit-export", args=["demo"]),
}


@pytest.mark.parametrize("page", PAGES)
def test_query_count_does_not_grow(project: Project, rita: Any, page: str) -> None:
    client = Client()
    client.force_login(rita)
    small = grow(project, articles=1, claims=3, analysts=2)
    client.get(reverse("project-list"))  # warm the session
    at_small = count(client, PAGES[page](small[0]))
    large = grow(project, articles=3, claims=12, analysts=4)
    at_large = count(client, PAGES[page](large[-1]))
    assert at_small == at_large, f"{page}: {at_small} queries, then {at_large}"


# An import's statements, beside earlier articles that share its words: the same at 10 and
# at 60 claims (its rows go in batches of a thousand: both sizes fit one), the two that
# pause and resume the search index's triggers included. PostgreSQL loads the rows by COPY,
# which Django does not count.
IMPORT_QUERIES = {"sqlite": 21, "postgresql": 18}
PUBLISHED = dt.date(2021, 10, 22)


@pytest.mark.parametrize("claims", [10, 60])
def test_an_import_costs_the_same_statements_at_two_sizes(
    project: Project, alice: Any, claims: int
) -> None:
    from claims.importer import import_article

    def text(n: int, title: str) -> bytes:
        sentences = " ".join(f"Tanker {i} carried crude oil to Qingdao in March." for i in range(n))
        return f"{title}\n\nShipping\n\n{sentences}\n".encode()

    make_article(project, text(30, "Earlier report"), filename="earlier.txt")
    with CaptureQueriesContext(connection) as queries:
        article, created = import_article(
            project, text(claims, "New report"), filename="new.txt", published_on=PUBLISHED
        )
    assert created and article.claims.count() == claims
    assert len(queries) == IMPORT_QUERIES[connection.vendor], [q["sql"][:80] for q in queries]
