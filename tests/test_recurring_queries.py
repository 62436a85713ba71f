"""The same-claim section costs the same number of queries with one linked claim as with
five, each with its verdicts, ruling, evidence and citations, for a reviewer (who sees
proposals too) and for an analyst under blind review."""

from __future__ import annotations

from typing import Any

import pytest

from claims.models import Claim, ClaimLink, LinkState, Project
from tests.base import HTMX, client_for, html, url
from tests.factories import make_article

SAID = "Moscow and Beijing signed a {n} gas deal worth billions (TASS, May 3, 2021)."


def linked(
    project: Project, size: int, bob: Any, carol: Any, rita: Any, *, proposal: bool = True
) -> Claim:
    """A claim with ``size`` other claims linked to it (the first proposed if
    ``proposal``, the rest confirmed), each with two verdicts, a ruling and evidence."""
    made = [
        make_article(project, f"Brief {n}\n\n{SAID.format(n=n)}\n", filename=f"{n}.txt")
        for n in range(size + 1)
    ]
    claim, *others = (a.claims.get() for a in made)
    ClaimLink.objects.all().delete()  # the pairs this test decides, and only those
    for n, other in enumerate(others):
        other.article.project = project
        link = ClaimLink.objects.create(claim_a=claim, claim_b=other, score=90)
        if n or not proposal:
            link.decide(rita, LinkState.CONFIRMED, expected_version=0)
        other.set_verdict(bob, "supported", rationale=f"Seen {n}.")
        other.set_verdict(carol, "disputed", rationale="Not quite.")
        other.adjudicate(rita, "supported", rationale="Ruled.")
        other.add_evidence(carol, url=f"https://example.org/{n}", stance="supports", title="Doc")
        other.add_evidence(bob, url=f"https://example.org/b{n}", stance="context")
    return claim


def queries(django_assert_num_queries: Any, who: Any, claim: Claim, expected: int) -> str:
    client = client_for(who)
    client.get(url("claim-same", claim.pk), **HTMX)  # the session, once
    with django_assert_num_queries(expected):
        response = client.get(url("claim-same", claim.pk), **HTMX)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("size", [1, 5])
def test_the_section_costs_the_same_at_one_and_five_links(
    project: Project,
    alice: Any,
    bob: Any,
    carol: Any,
    rita: Any,
    size: int,
    django_assert_num_queries: Any,
) -> None:
    claim = linked(project, size, bob, carol, rita)
    text = queries(django_assert_num_queries, rita, claim, 10)
    section = html(text).by_id("same-claim")
    assert len(section.select("li", class_="confirmed")) == size - 1
    assert len(section.select("li", class_="proposed")) == 1
    assert text.count("Ruled.") == size and text.count('href="https://example.org/b') == size
    # Every other claim cites the same source and date.
    assert text.count('Claim 1</a> <span class="muted">in') >= size


@pytest.mark.parametrize("size", [1, 5])
def test_blind_review_costs_the_same_at_one_and_five_links(
    project: Project,
    alice: Any,
    bob: Any,
    carol: Any,
    rita: Any,
    size: int,
    django_assert_num_queries: Any,
) -> None:
    Project.objects.filter(pk=project.pk).update(blind=True)
    claim = linked(project, size, bob, carol, rita, proposal=False)
    text = queries(django_assert_num_queries, carol, claim, 10)
    # carol gave her verdicts there, so blind review shows her the team's.
    assert text.count("Not quite.") == size and text.count("Seen") == size
