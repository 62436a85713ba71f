"""Verdicts and adjudications are two kinds of one thing, written by one algorithm
(``Claim._write_assessment``): each rule of that algorithm holds for both, so each test
here runs once per kind.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from claims.log.fold import fold
from claims.log.integrity import snapshot, table_rows
from claims.models import Adjudication, AuditEvent, Claim, Conflict, Verdict


@dataclass(frozen=True)
class Kind:
    """One kind of assessment, as its callers see it."""

    name: str
    writer: str  # the person who writes one (a fixture): an analyst, a reviewer
    below: str  # someone whose role is too low to write one
    model: type[Verdict] | type[Adjudication]
    put: Callable[..., Any]  # (claim, who, status, expected_version) -> the row
    clear: Callable[..., Any]  # (claim, who, expected_version) -> the row
    actions: tuple[str, str, str]  # set, changed, cleared
    conflict: str


VERDICT = Kind(
    "verdict",
    writer="bob",
    below="victor",
    model=Verdict,
    put=lambda claim, who, status, version: claim.set_verdict(
        who, status, rationale="Checked.", expected_version=version
    ),
    clear=lambda claim, who, version: claim.clear_verdict(who, expected_version=version),
    actions=("verdict.set", "verdict.changed", "verdict.cleared"),
    conflict="Someone else changed this first.",
)
ADJUDICATION = Kind(
    "adjudication",
    writer="rita",
    below="bob",
    model=Adjudication,
    put=lambda claim, who, status, version: claim.adjudicate(
        who, status, rationale="Checked.", expected_version=version
    ),
    clear=lambda claim, who, version: claim.withdraw_adjudication(who, expected_version=version),
    actions=("adjudication.set", "adjudication.changed", "adjudication.withdrawn"),
    conflict="Another reviewer changed the adjudication first.",
)
KINDS = pytest.mark.parametrize("kind", [VERDICT, ADJUDICATION], ids=lambda kind: kind.name)


def fields(status: str) -> dict[str, Any]:
    return {"status": status, "rationale": "Checked.", "as_of": None}


def events_after(seq: int, claim: Claim) -> list[dict[str, Any]]:
    rows = AuditEvent.objects.filter(chain__project=claim.article.project, seq__gt=seq)
    return [json.loads(body) for body in rows.order_by("seq").values_list("body", flat=True)]


def head(claim: Claim) -> int:
    chain = claim.article.project.chain
    chain.refresh_from_db()
    return chain.head_seq


def fold_equals_database(claim: Claim) -> bool:
    project = claim.article.project
    bodies = AuditEvent.objects.filter(chain__project=project).order_by("seq")
    folded = fold(json.loads(body) for body in bodies.values_list("body", flat=True))
    return table_rows(folded) == table_rows(snapshot(project))


@KINDS
def test_set_change_and_clear_are_one_event_each(
    kind: Kind, claim: Claim, request: pytest.FixtureRequest
) -> None:
    who = request.getfixturevalue(kind.writer)
    start = head(claim)
    assert kind.put(claim, who, "disputed", 0).version == 1
    assert kind.put(claim, who, "supported", 1).version == 2
    cleared = kind.clear(claim, who, 2)
    assert (cleared.status, cleared.rationale, cleared.version) == ("", "", 3)
    row = kind.model.objects.get(claim=claim)  # a cleared one keeps its row
    assert (row.status, row.version) == ("", 3)
    events = [
        (e["action"], e["target"]["type"], e["before"], e["after"])
        for e in events_after(start, claim)
    ]
    assert events == [
        (kind.actions[0], kind.name, None, fields("disputed")),
        (kind.actions[1], kind.name, fields("disputed"), fields("supported")),
        (kind.actions[2], kind.name, fields("supported"), None),
    ]
    assert fold_equals_database(claim)


@KINDS
def test_stale_version_gets_conflict_and_writes_nothing(
    kind: Kind, claim: Claim, request: pytest.FixtureRequest
) -> None:
    who = request.getfixturevalue(kind.writer)
    kind.put(claim, who, "disputed", 0)
    start = head(claim)
    with pytest.raises(Conflict, match=kind.conflict) as stale_put:
        kind.put(claim, who, "supported", 0)
    with pytest.raises(Conflict, match=kind.conflict) as stale_clear:
        kind.clear(claim, who, 2)
    for raised in (stale_put, stale_clear):
        current = raised.value.current
        assert (type(current), current.status, current.version) == (kind.model, "disputed", 1)
    assert head(claim) == start
    assert kind.model.objects.get(claim=claim).status == "disputed"


@KINDS
def test_unchanged_write_is_skipped_without_an_event(
    kind: Kind, claim: Claim, request: pytest.FixtureRequest
) -> None:
    who = request.getfixturevalue(kind.writer)
    start = head(claim)
    never = kind.clear(claim, who, 0)  # nothing to clear: no row is made
    assert (never.pk, never.version) == (None, 0)
    assert not kind.model.objects.filter(claim=claim).exists()
    kind.put(claim, who, "supported", 0)
    again = kind.put(claim, who, "supported", 1)
    assert (again.status, again.version) == ("supported", 1)
    kind.clear(claim, who, 1)
    assert kind.clear(claim, who, 2).version == 2
    actions = [event["action"] for event in events_after(start, claim)]
    assert actions == [kind.actions[0], kind.actions[2]]


@KINDS
def test_too_low_a_role_is_refused_and_writes_nothing(
    kind: Kind, claim: Claim, request: pytest.FixtureRequest
) -> None:
    start = head(claim)
    with pytest.raises(PermissionDenied):
        kind.put(claim, request.getfixturevalue(kind.below), "supported", 0)
    assert head(claim) == start


def test_every_verb_writes_through_the_one_writer(
    claim: Claim, bob: Any, rita: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = Claim._write_assessment
    calls: list[tuple[type, dict[str, Any] | None]] = []

    def spy(self: Claim, kind: Any, who: Any, wanted: Any, *args: Any) -> Any:
        calls.append((kind, wanted))
        return writer(self, kind, who, wanted, *args)

    monkeypatch.setattr(Claim, "_write_assessment", spy)
    claim.set_verdict(bob, "supported", rationale="Checked.")
    claim.clear_verdict(bob, expected_version=1)
    claim.adjudicate(rita, "supported", rationale="Checked.")
    claim.withdraw_adjudication(rita, expected_version=1)
    assert calls == [
        (Verdict, fields("supported")),
        (Verdict, None),
        (Adjudication, fields("supported")),
        (Adjudication, None),
    ]
