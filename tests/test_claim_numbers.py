"""Claim numbers never shift: a split gives the new part the next free number, a merge
retires the absorbed claim's, a revision keeps every carried claim's; the log, the as-of
view and the history speak in the same numbers."""

from __future__ import annotations

import json
from typing import Any

from claims.log.history import describe
from claims.log.integrity import snapshot, table_rows
from claims.log.past import Past
from claims.models import Article, AuditEvent, Claim
from tests.base import HTMX, body, client_for, html, url
from tests.test_fold import folded


def numbers(article: Article) -> dict[int, int]:
    return dict(Claim.objects.filter(article=article).values_list("pk", "ordinal"))


def two_part(article: Article) -> Claim:
    return next(
        c for c in Claim.objects.filter(article=article).order_by("start") if c.next_in_sentence()
    )


def test_split_and_merge_leave_every_other_number_alone(article: Article, rita: Any) -> None:
    before = numbers(article)
    top = max(before.values())
    claim = two_part(article)
    left, right = claim.split(rita, at=claim.start + 5, expected_version=claim.version)
    after = numbers(article)
    assert {pk: n for pk, n in after.items() if pk != right.pk} == before
    assert after[right.pk] == top + 1
    event = json.loads(AuditEvent.objects.get(action="claim.split").body)
    assert describe(event).startswith(f"split the claim in two; the new claim {top + 1} reads")

    left.refresh_from_db()
    left.merge_next(rita, expected_version=left.version)
    assert numbers(article) == before
    merged = json.loads(AuditEvent.objects.get(action="claim.merged").body)
    assert describe(merged).startswith(f"merged claim {top + 1} into this one")


def test_the_log_and_the_past_use_the_same_numbers(
    article: Article, project: Any, rita: Any
) -> None:
    claim = two_part(article)
    claim.split(rita, at=claim.start + 5, expected_version=claim.version)
    assert table_rows(folded(project)) == table_rows(snapshot(project))
    then = Past(article, AuditEvent.objects.latest("seq").created_at)
    assert {c.pk: c.ordinal for c in then.claims} == numbers(article)


def test_the_panel_says_what_a_merge_will_do_before_it_is_done(
    article: Article, bob: Any, carol: Any, rita: Any
) -> None:
    first = two_part(article)
    second = first.next_in_sentence()
    assert second is not None
    first.set_verdict(bob, "supported")
    second.set_verdict(bob, "disputed")
    first.set_verdict(carol, "supported")
    second.set_verdict(carol, "supported")
    second.add_evidence(carol, url="https://example.org/x", stance="supports")
    panel = html(body(client_for(rita).get(url("claim-panel", first.pk), **HTMX)))
    (preview,) = panel.select("ul", **{"aria-label": "What the merge will do"})
    said = [li.content() for li in preview.select("li")]
    assert said[0].startswith("bob: the verdicts on the two claims differ; they will be cleared")
    assert said[1].startswith("carol: the same verdict on both; it is kept")
    assert said[-2].startswith(f"1 piece of evidence on claim {second.ordinal} moves")
    assert said[-1].startswith("The merge can be undone from the history")
    # And the merge does what it said.
    first.merge_next(rita, expected_version=first.version)
    verdicts = dict(first.verdicts.values_list("analyst__username", "status"))
    assert verdicts == {"bob": "", "carol": "supported"}
