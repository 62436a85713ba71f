"""Consensus states: from verdict counts, and from the database in a fixed number of queries."""

from __future__ import annotations

from typing import Any

import pytest

from claims.consensus import consensus_state
from claims.models import Claim
from tests.factories import make_article


@pytest.mark.parametrize(
    ("counts", "minimum", "adjudicated", "state"),
    [
        ({}, 2, False, "unreviewed"),
        ({"supported": 1}, 2, False, "unreviewed"),
        ({"supported": 1}, 1, False, "unanimous"),
        ({"supported": 3}, 2, False, "unanimous"),
        ({"supported": 2, "disputed": 1}, 2, False, "majority"),
        ({"supported": 1, "disputed": 1}, 2, False, "contested"),
        ({"supported": 2, "disputed": 1, "outdated": 1}, 2, False, "contested"),
        ({"supported": 1, "disputed": 1}, 2, True, "adjudicated"),
        ({}, 2, True, "adjudicated"),
    ],
)
def test_consensus_state(
    counts: dict[str, int], minimum: int, adjudicated: bool, state: str
) -> None:
    assert consensus_state(counts, min_verdicts=minimum, adjudicated=adjudicated) == state


def test_with_consensus_counts_current_verdicts_only(
    article: Any, bob: Any, carol: Any, rita: Any
) -> None:
    first, second, third = article.claims.order_by("start")[:3]
    first.set_verdict(bob, "supported")
    first.set_verdict(carol, "disputed")
    second.set_verdict(bob, "outdated")
    second.set_verdict(carol, "outdated")
    third.set_verdict(bob, "supported")
    third.clear_verdict(bob, expected_version=1)
    second.adjudicate(rita, "supported", rationale="Checked.")
    claims = {c.pk: c for c in Claim.objects.filter(article=article).with_consensus()}
    assert claims[first.pk].counts() == {"supported": 1, "disputed": 1}
    assert claims[first.pk].consensus(2) == "contested"
    assert claims[second.pk].consensus(2) == "adjudicated"
    assert claims[third.pk].counts() == {}
    assert claims[third.pk].consensus(2) == "unreviewed"


@pytest.mark.parametrize("size", [5, 200])
def test_with_consensus_is_one_query(
    project: Any, bob: Any, django_assert_num_queries: Any, size: int
) -> None:
    text = "Title Line\n\n" + " ".join(f"Claim number {i} holds." for i in range(size)) + "\n"
    article = make_article(project, text)
    for claim in article.claims.all()[:5]:
        claim.set_verdict(bob, "supported")
    with django_assert_num_queries(1):
        states = [c.consensus(2) for c in Claim.objects.filter(article=article).with_consensus()]
    assert len(states) == size
