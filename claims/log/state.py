"""A project as its audit log tells it: plain data, and how each kind of event changes it.

Each function here is one rule's change (``claims.log.actions.RULES``); ``claims.log.fold``
replays a log through them. Pure: no Django.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ProjectState:
    slug: str
    name: str
    blind: bool
    min_verdicts: int


@dataclass
class ArticleState:
    id: int
    title: str
    filename: str
    published_on: str
    sha256: str
    blocks: int
    citations: int


@dataclass
class ClaimState:
    id: int
    article: int
    start: int
    end: int
    version: int = 1


@dataclass
class VerdictState:
    status: str
    rationale: str
    as_of: str | None
    version: int
    after_seeing_team: bool = False


@dataclass
class EvidenceState:
    id: int
    claim: int
    fields: dict[str, Any]
    removed: bool = False
    removed_by: str | None = None


@dataclass
class AdjudicationState:
    status: str
    rationale: str
    as_of: str | None
    reviewer: str
    version: int


@dataclass
class State:
    seq: int = 0
    project: ProjectState | None = None
    members: dict[str, str] = field(default_factory=dict)  # username -> role
    articles: dict[int, ArticleState] = field(default_factory=dict)
    claims: dict[int, ClaimState] = field(default_factory=dict)
    verdicts: dict[tuple[int, str], VerdictState] = field(default_factory=dict)
    evidence: dict[int, EvidenceState] = field(default_factory=dict)
    adjudications: dict[int, AdjudicationState] = field(default_factory=dict)


# How one event changes the state: the body of the event, parsed.
Change = Callable[[State, dict[str, Any]], None]


def project_created(state: State, body: dict[str, Any]) -> None:
    after = body["after"]
    state.project = ProjectState(
        body["target"]["slug"], after["name"], after["blind"], after["min_verdicts"]
    )
    if after["admin"]:
        state.members[after["admin"]] = "admin"


def membership_written(state: State, body: dict[str, Any]) -> None:
    if body["after"] is None:
        state.members.pop(body["before"]["user"], None)
    else:
        state.members[body["after"]["user"]] = body["after"]["role"]


def article_imported(state: State, body: dict[str, Any]) -> None:
    article, after = body["target"]["article"], body["after"]
    state.articles[article] = ArticleState(
        article,
        after["title"],
        after["filename"],
        after["published_on"],
        after["sha256"],
        after["blocks"],
        after["citations"],
    )
    for claim_id, start, end in body["after"]["claims"]:
        state.claims[claim_id] = ClaimState(claim_id, article, start, end)


CLEARED: dict[str, Any] = {"status": "", "rationale": "", "as_of": None}


def _assessed(
    previous: VerdictState | AdjudicationState | None, body: dict[str, Any]
) -> dict[str, Any]:
    """What a verdict's or an adjudication's event leaves, whichever it is: the status,
    rationale and date it wrote (blank when cleared or withdrawn), one version on."""
    after = body["after"] or CLEARED
    return {
        "status": after["status"],
        "rationale": after["rationale"],
        "as_of": after["as_of"],
        "version": previous.version + 1 if previous else 1,
    }


def verdict_written(state: State, body: dict[str, Any]) -> None:
    target = body["target"]
    key = (target["claim"], target["analyst"])
    previous = state.verdicts.get(key)
    seen = bool(previous and previous.after_seeing_team) or bool(target.get("after_seeing_team"))
    state.verdicts[key] = VerdictState(**_assessed(previous, body), after_seeing_team=seen)


def evidence_added(state: State, body: dict[str, Any]) -> None:
    target = body["target"]
    state.evidence[target["evidence"]] = EvidenceState(
        target["evidence"], target["claim"], dict(body["after"])
    )


def evidence_removed(state: State, body: dict[str, Any]) -> None:
    evidence = state.evidence[body["target"]["evidence"]]
    evidence.removed, evidence.removed_by = True, body["actor"]


def evidence_restored(state: State, body: dict[str, Any]) -> None:
    evidence = state.evidence[body["target"]["evidence"]]
    evidence.removed, evidence.removed_by = False, None


def span_corrected(state: State, body: dict[str, Any]) -> None:
    claim = state.claims[body["target"]["claim"]]
    claim.start, claim.end = body["after"]["start"], body["after"]["end"]
    claim.version += 1


def claim_split(state: State, body: dict[str, Any]) -> None:
    left, right = body["after"]["left"], body["after"]["right"]
    claim = state.claims[left["claim"]]
    claim.end = left["end"]
    claim.version += 1
    state.claims[right["claim"]] = ClaimState(
        right["claim"], claim.article, right["start"], right["end"]
    )
    for name in body["after"]["verdicts_copied"]:
        original = state.verdicts[(left["claim"], name)]
        state.verdicts[(right["claim"], name)] = VerdictState(
            original.status, original.rationale, original.as_of, 1
        )
    for old, new in body["after"]["evidence_copied"]:
        source = state.evidence[old]
        state.evidence[new] = EvidenceState(new, right["claim"], dict(source.fields))


def claims_merged(state: State, body: dict[str, Any]) -> None:
    merged = body["after"]["merged"]
    first, second = merged["claim"], body["before"]["right"]["claim"]
    state.claims[first].end = merged["end"]
    state.claims[first].version += 1
    for name, what in body["after"]["verdicts"].items():
        if what["outcome"] == "moved":
            moved = state.verdicts[(second, name)]
            moved.version += 1
            state.verdicts[(first, name)] = moved
        elif what["outcome"] == "cleared":
            kept = state.verdicts[(first, name)]
            kept.status, kept.rationale, kept.as_of = "", "", None
            kept.version += 1
    for key in [key for key in state.verdicts if key[0] == second]:
        del state.verdicts[key]
    for evidence_id in body["after"]["evidence_moved"]:
        state.evidence[evidence_id].claim = first
    # A piece on both parts (a split's copy) stays once; events before this rule have none.
    for dropped, _kept in body["after"].get("evidence_dropped", []):
        del state.evidence[dropped]
    del state.claims[second]


def adjudication_written(state: State, body: dict[str, Any]) -> None:
    claim = body["target"]["claim"]
    previous = state.adjudications.get(claim)
    state.adjudications[claim] = AdjudicationState(
        **_assessed(previous, body), reviewer=body["actor"]
    )
