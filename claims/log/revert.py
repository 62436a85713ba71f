"""Reverting one event: a new event, through the same verbs and version checks, that
re-applies the event's ``before`` and names the event it reverts.

``plan()`` reads the current state and says whether it moved on since the event (then
the user is asked before anything is overwritten); ``Plan.apply()`` makes the change.
Which events revert, and how, is their rule's (``claims.log.actions.RULES``): one plan
per kind of :class:`~claims.log.actions.Undo`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from django.db.models import Max

from claims import revising
from claims.log.actions import RULES, Undo
from claims.log.fold import fold
from claims.models import (
    Adjudication,
    AuditEvent,
    Claim,
    ClaimLink,
    Evidence,
    Project,
    Status,
    Verdict,
    merge_fates,
)

# What a revert's change returns: the claim, the assessment as written, or nothing (evidence).
Reverted = Claim | Verdict | Adjudication | ClaimLink | None


class NotRevertable(ValueError):
    """This event cannot be reverted (any more); the message says why."""


@dataclass
class Plan:
    seq: int
    what: str  # in words: "bob's verdict on claim 12"
    current: dict[str, Any] | None  # the state now, in the event's terms (None for absent)
    restores: dict[str, Any] | None  # the state the revert brings back (the event's "before")
    version: int  # the version the revert is made against
    changed_since: bool
    change: Callable[[Any, int], Reverted]

    def apply(self, who: Any, version: int) -> Reverted:
        """Make the change as ``who``: the acting ``Member`` (or a user), handed to the verb."""
        return self.change(who, version)


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _claim(project: Project, claim_id: int) -> Claim:
    claim: Claim | None = (
        Claim.objects.select_related("article", "block").filter(
            pk=claim_id, article__project=project
        )
    ).first()
    if claim is None:
        raise NotRevertable("The claim no longer exists: it was merged into another.")
    claim.article.project = project
    return claim


def plan(project: Project, event: AuditEvent) -> Plan:
    body = json.loads(event.body)
    rule = RULES.get(body["action"])
    if rule is None or rule.revert is None:
        raise NotRevertable(
            "Only verdicts, evidence, text corrections, splits, merges, alignment corrections "
            "and adjudications revert."
        )
    return PLANS[rule.revert.undo](project, event.seq, body)


def _span_plan(project: Project, seq: int, body: dict[str, Any]) -> Plan:
    before, after = body["before"], body["after"]
    claim = _claim(project, body["target"]["claim"])
    now = {"start": claim.start, "end": claim.end}
    return Plan(
        seq,
        f"the text of claim {claim.ordinal}",
        claim.span(),
        before,
        claim.version,
        now != {"start": after["start"], "end": after["end"]},
        lambda user, version: claim.correct_span(
            user,
            start=before["start"],
            end=before["end"],
            expected_version=version,
            reverts=seq,
        ),
    )


class _Clear(Protocol):
    """``Claim.clear_verdict`` or ``Claim.withdraw_adjudication``."""

    def __call__(
        self, who: Any, /, *, expected_version: int, reverts: int | None = ...
    ) -> Verdict | Adjudication: ...


class _Put(Protocol):
    """``Claim.set_verdict`` or ``Claim.adjudicate`` (which needs the rationale)."""

    def __call__(
        self,
        who: Any,
        status: Status | str,
        /,
        *,
        rationale: str,
        as_of: dt.date | None = ...,
        expected_version: int = ...,
        reverts: int | None = ...,
    ) -> Verdict | Adjudication: ...


def _status_plan(project: Project, seq: int, body: dict[str, Any], *, adjudication: bool) -> Plan:
    """An analyst's verdict or the reviewer's adjudication: the same shape, other verbs."""
    target, before, after = body["target"], body["before"], body["after"]
    claim = _claim(project, target["claim"])
    clear: _Clear
    put: _Put
    if adjudication:
        row: Verdict | Adjudication | None = Adjudication.objects.filter(claim=claim).first()
        clear, put = claim.withdraw_adjudication, claim.adjudicate
        what = f"the adjudication of claim {claim.ordinal}"
    else:
        row = Verdict.objects.filter(claim=claim, analyst__username=target["analyst"]).first()
        clear, put = claim.clear_verdict, claim.set_verdict
        what = f"{target['analyst']}'s verdict on claim {claim.ordinal}"
    current = row.fields() if row and row.status else None

    def change(user: Any, version: int) -> Verdict | Adjudication:
        if before is None:
            return clear(user, expected_version=version, reverts=seq)
        return put(
            user,
            before["status"],
            rationale=before["rationale"],
            as_of=_date(before["as_of"]),
            expected_version=version,
            reverts=seq,
        )

    return Plan(seq, what, current, before, row.version if row else 0, current != after, change)


def _evidence_plan(project: Project, seq: int, body: dict[str, Any], *, remove: bool) -> Plan:
    """Remove evidence that was added or restored; restore evidence that was removed."""
    evidence = (
        Evidence.objects.select_related("claim__article", "added_by")
        .filter(pk=body["target"]["evidence"], claim__article__project=project)
        .first()
    )
    if evidence is None:
        raise NotRevertable("That evidence no longer exists.")
    evidence.claim.article.project = project
    removed_now = evidence.removed_at is not None
    if removed_now == remove:
        state = "removed" if remove else "in place"
        raise NotRevertable(f"Nothing to revert: the evidence is already {state}.")

    def change(user: Any, version: int) -> None:
        if remove:
            return evidence.remove(user, reverts=seq)
        return evidence.restore(user, reverts=seq)

    return Plan(
        seq,
        f"evidence “{evidence.title or evidence.url}”",
        {"removed": removed_now},
        {"removed": remove},
        0,
        False,
        change,
    )


def _link_plan(project: Project, seq: int, body: dict[str, Any], *, relink: bool) -> Plan:
    """Undo an unlink (link the retired claim to the fresh one again) or a link (unlink)."""
    after = body["after"]
    if relink:
        fresh_id, kept_id = after["claim"][0], after["retired"]
    else:
        kept_id, fresh_id = after["claim"][0], after["retired"]
    found = {
        c.pk: c
        for c in Claim.all_objects.select_related("article").filter(
            pk__in=[fresh_id, kept_id], article__project=project
        )
    }
    if len(found) != 2:
        raise NotRevertable("The claim no longer exists: it was merged into another.")
    fresh, kept = found[fresh_id], found[kept_id]
    for claim in found.values():
        claim.article.project = project
    if relink:
        what = f"the link between claim {fresh.ordinal} and the claim it replaced"

        def change(user: Any, version: int) -> Claim:
            return revising.link(fresh, kept, user, expected_version=version, reverts=seq)

        current = {"linked": False}
        moved = fresh.retired_in is not None or kept.retired_in is None
        return Plan(seq, what, current, {"linked": True}, fresh.version, moved, change)
    what = f"the link of claim {kept.ordinal} to the revised text"

    def unlink(user: Any, version: int) -> Claim:
        return revising.unlink(kept, user, expected_version=version, reverts=seq)

    moved = kept.retired_in is not None
    return Plan(seq, what, {"linked": True}, {"linked": False}, kept.version, moved, unlink)


def _merge_back_plan(project: Project, seq: int, body: dict[str, Any]) -> Plan:
    """Undo a split: merge the new part back into the first (one ``claim.merged`` event).
    The split copied every verdict to both parts, so they agree unless changed since."""
    left_span, right_span = body["after"]["left"], body["after"]["right"]
    left = _claim(project, left_span["claim"])
    right = left.next_in_sentence()
    if right is None or right.pk != right_span["claim"]:
        raise NotRevertable("The two parts are no longer side by side; merge them by hand.")
    fates = merge_fates(
        {v.analyst.get_username(): v.status for v in left.verdicts.select_related("analyst")},
        {v.analyst.get_username(): v.status for v in right.verdicts.select_related("analyst")},
    )
    spans = {"left": [left.start, left.end], "right": [right.start, right.end]}
    split = {
        "left": [left_span["start"], left_span["end"]],
        "right": [right_span["start"], right_span["end"]],
    }
    cleared = sorted(name for name, fate in fates.items() if fate == "cleared")
    return Plan(
        seq,
        f"the split of claim {left.ordinal}",
        {"parts": 2, "verdicts differing": ", ".join(cleared) or "none"},
        {"parts": 1},
        left.version,
        spans != split or bool(cleared),
        lambda user, version: left.merge_next(user, expected_version=version, reverts=seq),
    )


def _unmerge_plan(project: Project, seq: int, body: dict[str, Any]) -> Plan:
    """Undo a merge: the second part its own claim again, with each analyst's verdicts on
    both parts as the log says they were just before the merge (one ``claim.unmerged``)."""
    before, merged = body["before"], body["after"]["merged"]
    claim = _claim(project, merged["claim"])
    right_id = before["right"]["claim"]
    then = fold(
        json.loads(raw)
        for raw in AuditEvent.objects.filter(chain__project=project, seq__lt=seq)
        .order_by("seq")
        .values_list("body", flat=True)
        .iterator(chunk_size=2000)
    )

    def standing(claim_id: int, name: str) -> dict[str, Any] | None:
        verdict = then.verdicts.get((claim_id, name))
        if verdict is None or not verdict.status:
            return None
        fields = {
            "status": verdict.status,
            "rationale": verdict.rationale,
            "as_of": verdict.as_of,
            "after_seeing_team": verdict.after_seeing_team,
        }
        if verdict.recheck_by:
            fields["recheck_by"] = verdict.recheck_by
        return fields

    names = sorted(body["after"]["verdicts"])
    verdicts = {
        name: {"left": standing(claim.pk, name), "right": standing(right_id, name)}
        for name in names
    }
    number = before["right"].get("number")
    if number is None or Claim.all_objects.filter(article=claim.article, ordinal=number).exists():
        number = (claim.article.claims.aggregate(top=Max("ordinal"))["top"] or 0) + 1
    evidence = list(body["after"]["evidence_moved"])

    def change(user: Any, version: int) -> Claim:
        return claim.unmerge(
            user,
            left_end=before["left"]["end"],
            right_start=before["right"]["start"],
            number=number,
            verdicts=verdicts,
            evidence=evidence,
            expected_version=version,
            reverts=seq,
        )

    return Plan(
        seq,
        f"the merge into claim {claim.ordinal}",
        {"merged": [claim.start, claim.end]},
        {
            "parts": [
                [before["left"]["start"], before["left"]["end"]],
                [before["right"]["start"], before["right"]["end"]],
            ]
        },
        claim.version,
        [claim.start, claim.end] != [merged["start"], merged["end"]],
        change,
    )


def _same_claim_plan(project: Project, seq: int, body: dict[str, Any]) -> Plan:
    """Put a same-claim link back in the state the decision found it in."""
    link = (
        ClaimLink.objects.select_related("claim_a__article")
        .filter(pk=body["target"]["link"], claim_a__article__project=project)
        .first()
    )
    if link is None:
        raise NotRevertable("The link no longer exists: one of its claims is gone.")
    link.claim_a.article.project = project
    before = body["before"]["state"]
    return Plan(
        seq,
        f"the decision on the link between claims {link.claim_a_id} and {link.claim_b_id}",
        {"state": link.state},
        {"state": before},
        link.version,
        link.state != body["after"]["state"],
        lambda user, version: link.decide(user, before, expected_version=version, reverts=seq),
    )


PLANS: dict[Undo, Callable[[Project, int, dict[str, Any]], Plan]] = {
    Undo.VERDICT: partial(_status_plan, adjudication=False),
    Undo.ADJUDICATION: partial(_status_plan, adjudication=True),
    Undo.REMOVE_EVIDENCE: partial(_evidence_plan, remove=True),
    Undo.RESTORE_EVIDENCE: partial(_evidence_plan, remove=False),
    Undo.SPAN: _span_plan,
    Undo.MERGE_BACK: _merge_back_plan,
    Undo.UNMERGE: _unmerge_plan,
    Undo.RELINK: partial(_link_plan, relink=True),
    Undo.UNLINK: partial(_link_plan, relink=False),
    Undo.SAME_CLAIM: _same_claim_plan,
}
