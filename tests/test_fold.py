"""Folding the audit log reproduces the database: now, and at every moment in between.

Any write that bypassed the write path would leave the database and the fold apart. The
comparison is ``verify_audit``'s own (``claims.log.integrity``), so what this holds for every
step, the command checks in production.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from claims.log.fold import fold
from claims.log.integrity import snapshot, table_rows
from claims.log.state import State
from claims.models import AuditEvent, Claim, Project, Verdict
from tests.factories import make_article, make_user


def folded(project: Project, upto: int | None = None) -> State:
    events = AuditEvent.objects.filter(chain__project=project).order_by("seq")
    if upto is not None:
        events = events.filter(seq__lte=upto)
    return fold(json.loads(body) for body in events.values_list("body", flat=True))


def database(project: Project) -> dict[str, Any]:
    """The current rows, in the fold's terms: what ``verify_audit`` compares with the log."""
    return table_rows(snapshot(project))


def as_database(state: State) -> dict[str, Any]:
    return table_rows(state)


def two_claim_sentence(article: Any) -> Claim:
    for claim in article.claims.order_by("start"):
        if claim.next_in_sentence():
            return claim
    raise AssertionError("the sample has two-claim sentences")


def test_folding_every_event_reproduces_the_database_at_every_step(
    project: Project, alice: Any, bob: Any, carol: Any, rita: Any
) -> None:
    snapshots: list[tuple[int, dict[str, Any]]] = []

    def step() -> None:
        project.chain.refresh_from_db()
        snapshots.append((project.chain.head_seq, database(project)))

    step()
    article = make_article(project, actor=alice)
    sample = make_article(
        project,
        "Report Title\n\nMoscow agreed, and Beijing declined. Trade grew, but talks stalled.\n",
        filename="second.txt",
    )
    step()
    first, second, third = article.claims.order_by("start")[:3]
    first.set_verdict(bob, "supported", rationale="Readout.")
    first.set_verdict(carol, "disputed")
    first.set_verdict(bob, "outdated", as_of=dt.date(2022, 2, 24), expected_version=1)
    second.set_verdict(bob, "supported")
    second.clear_verdict(bob, expected_version=1)
    step()
    kept = first.add_evidence(bob, url="https://example.org/a", stance="supports", title="A")
    gone = first.add_evidence(carol, url="https://example.org/b", stance="contradicts")
    gone.remove(carol)
    gone.restore(carol)
    gone.remove(carol)
    step()
    first.refresh_from_db()
    first.split(rita, at=first.start + first.text.index(" ") + 1, expected_version=1)
    step()
    left = two_claim_sentence(sample)
    right = left.next_in_sentence()
    left.set_verdict(bob, "supported")
    right.set_verdict(bob, "supported")
    left.set_verdict(carol, "supported")
    right.set_verdict(carol, "disputed")
    right.set_verdict(alice, "outdated")
    right.add_evidence(carol, url="https://example.org/c", stance="context")
    step()
    left.merge_next(rita, expected_version=1)
    step()
    third.correct_span(rita, start=third.start, end=third.end - 1, expected_version=1)
    third.adjudicate(rita, "disputed", rationale="Checked.")
    third.adjudicate(alice, "supported", rationale="Rechecked.", expected_version=1)
    second.adjudicate(rita, "outdated", rationale="Old.", as_of=dt.date(2023, 1, 1))
    second.withdraw_adjudication(rita, expected_version=1)
    step()
    dana = make_user("dana")
    project.set_member(dana, "viewer", actor=alice)
    project.set_member(dana, "analyst", actor=alice)
    project.remove_member(dana, actor=alice)
    step()
    assert kept.pk in folded(project).evidence

    for seq, expected in snapshots:
        assert as_database(folded(project, upto=seq)) == expected, f"state after seq {seq}"
    assert as_database(folded(project)) == database(project)


def test_a_write_that_bypasses_the_write_path_shows(
    project: Project, article: Any, bob: Any
) -> None:
    claim = article.claims.first()
    claim.set_verdict(bob, "supported")
    assert as_database(folded(project)) == database(project)
    Verdict.objects.filter(claim=claim).update(status="disputed")  # no event
    assert as_database(folded(project)) != database(project)
