"""A project as its audit log tells it: plain data, and how each kind of event changes it.

Each function here is one rule's change (``claims.log.actions.RULES``); ``claims.log.fold``
replays a log through them. Pure: no Django.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Days a verdict of each status stays fresh (None: never due by date) in a project whose
# events do not say otherwise: the model's defaults, which events before freshness existed
# never named (``tests/test_recheck.py`` holds the two together).
DEFAULT_FRESHNESS: dict[str, int | None] = {"supported": 180, "disputed": 90, "outdated": None}


@dataclass
class ProjectState:
    slug: str
    name: str
    blind: bool
    min_verdicts: int
    freshness: dict[str, int | None] = field(default_factory=lambda: dict(DEFAULT_FRESHNESS))


@dataclass
class ArticleState:
    id: int
    title: str
    filename: str
    published_on: str
    sha256: str
    blocks: int
    citations: int
    version: int = 1


@dataclass
class ClaimState:
    id: int
    article: int
    start: int
    end: int
    version: int = 1
    retired_in: int | None = None  # the article version that removed it
    number: int = 0  # the claim's number, shown to people; it never shifts


@dataclass
class VerdictState:
    status: str
    rationale: str
    as_of: str | None
    version: int
    after_seeing_team: bool = False
    recheck_by: str | None = None  # the analyst's own re-check date


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
        body["target"]["slug"],
        after["name"],
        after["blind"],
        after["min_verdicts"],
        dict(after.get("freshness", DEFAULT_FRESHNESS)),
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
    for number, (claim_id, start, end) in enumerate(body["after"]["claims"], start=1):
        state.claims[claim_id] = ClaimState(claim_id, article, start, end, number=number)


def _shift_numbers(state: State, article: int, above: int, by: int) -> None:
    """Splits and merges logged before numbers were stable renumbered the claims after
    them; their events carry no numbers, and the fold does as they did."""
    for claim in state.claims.values():
        if claim.article == article and claim.number > above:
            claim.number += by


def claim_unlinked(state: State, body: dict[str, Any]) -> None:
    """A carried claim retired, and a fresh one in its place."""
    after = body["after"]
    retired = state.claims[after["retired"]]
    retired.retired_in, retired.version = after["version"], retired.version + 1
    fresh, start, end = after["claim"]
    state.claims[fresh] = ClaimState(fresh, retired.article, start, end, number=after["number"])


def claim_linked(state: State, body: dict[str, Any]) -> None:
    """A removed claim back in a new claim's place, and the new claim retired."""
    after = body["after"]
    claim_id, start, end = after["claim"]
    back = state.claims[claim_id]
    back.start, back.end, back.retired_in, back.version = start, end, None, back.version + 1
    gone = state.claims[after["retired"]]
    gone.retired_in, gone.version = after["version"], gone.version + 1


def article_revised(state: State, body: dict[str, Any]) -> None:
    """A new version of the text: kept claims move (edited ones one version on), removed
    ones are retired, added ones begin."""
    article_id, after = body["target"]["article"], body["after"]
    article = state.articles[article_id]
    article.title, article.filename, article.sha256 = (
        after["title"],
        after["filename"],
        after["sha256"],
    )
    article.blocks, article.citations, article.version = (
        after["blocks"],
        after["citations"],
        after["version"],
    )
    for claim_id, start, end in after["unchanged"]:
        claim = state.claims[claim_id]
        claim.start, claim.end = start, end
    for claim_id, start, end in after["edited"]:
        claim = state.claims[claim_id]
        claim.start, claim.end, claim.version = start, end, claim.version + 1
    for claim_id in after["removed"]:
        state.claims[claim_id].retired_in = after["version"]
    for claim_id, start, end, number in after["added"]:
        state.claims[claim_id] = ClaimState(claim_id, article_id, start, end, number=number)


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
    recheck_by = (body["after"] or {}).get("recheck_by")
    state.verdicts[key] = VerdictState(
        **_assessed(previous, body), after_seeing_team=seen, recheck_by=recheck_by
    )


def verdict_confirmed(state: State, body: dict[str, Any]) -> None:
    """The verdict still holds: it says what it said, one version on."""
    target = body["target"]
    state.verdicts[(target["claim"], target["analyst"])].version += 1


def freshness_changed(state: State, body: dict[str, Any]) -> None:
    if state.project is None:
        raise ValueError("the project's freshness changed before it was created")
    state.project.freshness = dict(body["after"])


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
    number = right.get("number")
    if number is None:
        _shift_numbers(state, claim.article, claim.number, 1)
        number = claim.number + 1
    state.claims[right["claim"]] = ClaimState(
        right["claim"], claim.article, right["start"], right["end"], number=number
    )
    for name in body["after"]["verdicts_copied"]:
        original = state.verdicts[(left["claim"], name)]
        state.verdicts[(right["claim"], name)] = VerdictState(
            original.status, original.rationale, original.as_of, 1, recheck_by=original.recheck_by
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
    gone = state.claims.pop(second)
    if "number" not in body["before"]["right"]:
        _shift_numbers(state, gone.article, gone.number, -1)


def claim_unmerged(state: State, body: dict[str, Any]) -> None:
    """A merge undone: the second part back as its own claim, each analyst's verdicts on
    both parts as they were before the merge, its evidence back on it."""
    left, right = body["after"]["left"], body["after"]["right"]
    claim = state.claims[left["claim"]]
    claim.end, claim.version = left["end"], claim.version + 1
    state.claims[right["claim"]] = ClaimState(
        right["claim"], claim.article, right["start"], right["end"], number=right["number"]
    )
    for name, parts in body["after"]["verdicts"].items():
        key = (left["claim"], name)
        previous = state.verdicts.get(key)
        if parts["left"] is not None:
            state.verdicts[key] = _restored(parts["left"], previous.version + 1 if previous else 1)
        elif previous is not None and previous.status:
            previous.status, previous.rationale, previous.as_of = "", "", None
            previous.recheck_by = None
            previous.version += 1
        if parts["right"] is not None:
            state.verdicts[(right["claim"], name)] = _restored(parts["right"], 1)
    for evidence_id in body["after"]["evidence_moved"]:
        state.evidence[evidence_id].claim = right["claim"]


def _restored(fields: dict[str, Any], version: int) -> VerdictState:
    return VerdictState(
        fields["status"],
        fields["rationale"],
        fields["as_of"],
        version,
        after_seeing_team=fields["after_seeing_team"],
        recheck_by=fields.get("recheck_by"),
    )


def adjudication_written(state: State, body: dict[str, Any]) -> None:
    claim = body["target"]["claim"]
    previous = state.adjudications.get(claim)
    state.adjudications[claim] = AdjudicationState(
        **_assessed(previous, body), reviewer=body["actor"]
    )
