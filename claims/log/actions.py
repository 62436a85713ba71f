"""Every action an audit event can record, and one rule per action.

A rule says how the event reads in words (a ``str.format`` template over the body's
``before``, ``after`` and ``target``, rendered by ``claims.log.history``), how the fold
applies it (a change in ``claims.log.state``), whether and by whom it can be reverted,
the activity group it is filtered under, and for an event of two claims which is the
other one (its ``other_claim_id`` column, which ``verify_audit`` checks). Adding an
action is one member of :class:`Action` and one row of :data:`RULES`;
``tests/test_actions.py`` checks that every member has its row and that every row's parts
exist.

Pure: no Django here, so that the fold which uses this table stays pure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from claims.log import state
from claims.log.state import Change


class Action(StrEnum):
    """What an event records. Each value is hashed into every event that names it: a value
    never changes once events carry it."""

    VERDICT_SET = "verdict.set"
    VERDICT_CHANGED = "verdict.changed"
    VERDICT_CLEARED = "verdict.cleared"
    VERDICT_CONFIRMED = "verdict.confirmed"
    EVIDENCE_ADDED = "evidence.added"
    EVIDENCE_REMOVED = "evidence.removed"
    EVIDENCE_RESTORED = "evidence.restored"
    # Evidence snapshots: a re-check found the evidence's page changed, moved or gone.
    EVIDENCE_PAGE_CHANGED = "evidence.page_changed"
    CLAIM_SPAN_CORRECTED = "claim.span_corrected"
    CLAIM_SPLIT = "claim.split"
    CLAIM_MERGED = "claim.merged"
    CLAIM_UNMERGED = "claim.unmerged"
    CLAIM_UNLINKED = "claim.unlinked"
    CLAIM_LINKED = "claim.linked"
    ADJUDICATION_SET = "adjudication.set"
    ADJUDICATION_CHANGED = "adjudication.changed"
    ADJUDICATION_WITHDRAWN = "adjudication.withdrawn"
    ARTICLE_IMPORTED = "article.imported"
    ARTICLE_REVISED = "article.revised"
    MEMBER_ADDED = "member.added"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_REMOVED = "member.removed"
    PROJECT_CREATED = "project.created"
    PROJECT_FRESHNESS_CHANGED = "project.freshness_changed"
    AUDIT_EXPORTED = "audit.exported"
    # Webhooks (models.Webhook): an admin's changes, and the worker's pause after failures.
    WEBHOOK_ADDED = "webhook.added"
    WEBHOOK_CHANGED = "webhook.changed"
    WEBHOOK_PAUSED = "webhook.paused"
    WEBHOOK_RESUMED = "webhook.resumed"
    WEBHOOK_REMOVED = "webhook.removed"
    # Personal access tokens for the JSON API (models.ApiToken): created and revoked.
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    # Recurring claims: a reviewer decides whether two articles' claims are the same claim.
    SAME_CLAIM_CONFIRMED = "claim.same_confirmed"
    SAME_CLAIM_REJECTED = "claim.same_rejected"
    SAME_CLAIM_REOPENED = "claim.same_reopened"


class Group(StrEnum):
    """The activity filters, in the order the filter lists them. A group holds the actions
    whose value starts with its name and a dot (the filter matches that prefix)."""

    VERDICT = "verdict"
    EVIDENCE = "evidence"
    CLAIM = "claim"
    ADJUDICATION = "adjudication"
    ARTICLE = "article"
    MEMBER = "member"
    AUDIT = "audit"


class Undo(Enum):
    """How a revert re-applies an event's ``before``: ``claims.log.revert`` plans each kind."""

    VERDICT = "the analyst's verdict as it was"
    ADJUDICATION = "the adjudication as it was"
    REMOVE_EVIDENCE = "the evidence removed again"
    RESTORE_EVIDENCE = "the evidence restored"
    SPAN = "the claim's text as it was"
    MERGE_BACK = "the two parts merged again"
    UNMERGE = "the two claims apart again, with their verdicts"
    RELINK = "the claims linked again"
    UNLINK = "the claims unlinked again"
    SAME_CLAIM = "the same-claim link as it was decided"


class RevertBy(Enum):
    """Who may revert an event: whoever may make the change that reverting it makes."""

    ACTOR = "the one who made it"
    ACTOR_OR_ADMIN = "the one who made it, or an admin"
    REVIEWER = "a reviewer or an admin"


@dataclass(frozen=True)
class Revert:
    undo: Undo
    by: RevertBy


@dataclass(frozen=True)
class Rule:
    words: str  # without the actor: "set their verdict to {after:verdict}"
    fold: Change | None  # None: the event changes nothing the fold holds
    revert: Revert | None  # None: the event cannot be reverted
    group: Group | None  # None: no activity filter lists it
    # The second claim an event of two claims names (its ``other_claim_id`` column), read
    # from its body; None: the event names one claim at most.
    other_claim: Callable[[dict[str, Any]], int] | None = None


def _right_after(body: dict[str, Any]) -> int:
    right: int = body["after"]["right"]["claim"]
    return right


def _right_before(body: dict[str, Any]) -> int:
    right: int = body["before"]["right"]["claim"]
    return right


def _same_claim_other(body: dict[str, Any]) -> int:
    other: int = body["target"]["other"]
    return other


ANALYST_VERDICT = Revert(Undo.VERDICT, RevertBy.ACTOR)
SAME_CLAIM = Revert(Undo.SAME_CLAIM, RevertBy.REVIEWER)
ADJUDICATION = Revert(Undo.ADJUDICATION, RevertBy.REVIEWER)

RULES: dict[Action, Rule] = {
    Action.VERDICT_SET: Rule(
        "set their verdict to {after:verdict}",
        state.verdict_written,
        ANALYST_VERDICT,
        Group.VERDICT,
    ),
    Action.VERDICT_CHANGED: Rule(
        "changed their verdict from {before:verdict} to {after:verdict}",
        state.verdict_written,
        ANALYST_VERDICT,
        Group.VERDICT,
    ),
    Action.VERDICT_CLEARED: Rule(
        "cleared their verdict (it was {before:verdict})",
        state.verdict_written,
        ANALYST_VERDICT,
        Group.VERDICT,
    ),
    # Not revertable: a confirmation changes nothing the verdict says, only when its analyst
    # last looked at it, which cannot be unsaid; to take it back is to change the verdict.
    Action.VERDICT_CONFIRMED: Rule(
        "confirmed their verdict still holds: {after:verdict}",
        state.verdict_confirmed,
        None,
        Group.VERDICT,
    ),
    Action.EVIDENCE_ADDED: Rule(
        "added {after[stance]} evidence: {after:evidence}",
        state.evidence_added,
        Revert(Undo.REMOVE_EVIDENCE, RevertBy.ACTOR_OR_ADMIN),
        Group.EVIDENCE,
    ),
    Action.EVIDENCE_REMOVED: Rule(
        "removed evidence: {before:evidence}",
        state.evidence_removed,
        Revert(Undo.RESTORE_EVIDENCE, RevertBy.ACTOR_OR_ADMIN),
        Group.EVIDENCE,
    ),
    Action.EVIDENCE_RESTORED: Rule(
        "restored evidence: {after:evidence}",
        state.evidence_restored,
        Revert(Undo.REMOVE_EVIDENCE, RevertBy.ACTOR_OR_ADMIN),
        Group.EVIDENCE,
    ),
    # Written by the re-check (no actor): the claim's verdicts come due, as with new
    # evidence. Not folded (the fold holds no pages) and not revertable: the page is as
    # the web has it, whatever anyone undoes.
    Action.EVIDENCE_PAGE_CHANGED: Rule(
        "found that the page of evidence {after:evidence} {after[page]}",
        None,
        None,
        Group.EVIDENCE,
    ),
    Action.CLAIM_SPAN_CORRECTED: Rule(
        "corrected the claim's text to “{after[text]}”",
        state.span_corrected,
        Revert(Undo.SPAN, RevertBy.REVIEWER),
        Group.CLAIM,
    ),
    Action.CLAIM_SPLIT: Rule(
        "split the claim in two; the new claim {after[right]:number} reads “{after[right][text]}”",
        state.claim_split,
        Revert(Undo.MERGE_BACK, RevertBy.REVIEWER),
        Group.CLAIM,
        other_claim=_right_after,  # the new right-hand part
    ),
    Action.CLAIM_MERGED: Rule(
        "merged claim {before[right]:number} into this one{after[verdicts]:fates}",
        state.claims_merged,
        Revert(Undo.UNMERGE, RevertBy.REVIEWER),
        Group.CLAIM,
        other_claim=_right_before,  # the absorbed claim
    ),
    Action.CLAIM_UNMERGED: Rule(
        "undid a merge: claim {after[right]:number} is its own claim again, with the "
        "verdicts and evidence it had",
        state.claim_unmerged,
        None,
        Group.CLAIM,
        other_claim=_right_after,  # the part that is its own claim again
    ),
    Action.CLAIM_UNLINKED: Rule(
        "unlinked this claim from version {after[version]} of the text: a new claim takes "
        "its place there",
        state.claim_unlinked,
        Revert(Undo.RELINK, RevertBy.REVIEWER),
        Group.CLAIM,
        other_claim=lambda body: body["after"]["claim"][0],  # the fresh claim in its place
    ),
    Action.CLAIM_LINKED: Rule(
        "linked this claim to version {after[version]} of the text, in place of a claim that "
        "version had added",
        state.claim_linked,
        Revert(Undo.UNLINK, RevertBy.REVIEWER),
        Group.CLAIM,
        other_claim=lambda body: body["after"]["retired"],  # the new claim, retired
    ),
    Action.ADJUDICATION_SET: Rule(
        "adjudicated the claim as {after:verdict}",
        state.adjudication_written,
        ADJUDICATION,
        Group.ADJUDICATION,
    ),
    Action.ADJUDICATION_CHANGED: Rule(
        "changed the adjudication from {before:verdict} to {after:verdict}",
        state.adjudication_written,
        ADJUDICATION,
        Group.ADJUDICATION,
    ),
    Action.ADJUDICATION_WITHDRAWN: Rule(
        "withdrew the adjudication (it was {before:verdict})",
        state.adjudication_written,
        ADJUDICATION,
        Group.ADJUDICATION,
    ),
    Action.ARTICLE_IMPORTED: Rule(
        "imported “{after[title]}” ({after[claims]:count} claims)",
        state.article_imported,
        None,
        Group.ARTICLE,
    ),
    Action.ARTICLE_REVISED: Rule(
        "revised “{after[title]}” to version {after[version]} ({after[edited]:count} claims "
        "edited, {after[removed]:count} removed, {after[added]:count} added)",
        state.article_revised,
        None,
        Group.ARTICLE,
    ),
    Action.MEMBER_ADDED: Rule(
        "added {after[user]} as {after[role]}",
        state.membership_written,
        None,
        Group.MEMBER,
    ),
    Action.MEMBER_ROLE_CHANGED: Rule(
        "made {after[user]} {after[role]} (was {before[role]})",
        state.membership_written,
        None,
        Group.MEMBER,
    ),
    Action.MEMBER_REMOVED: Rule(
        "removed {before[user]} (was {before[role]})",
        state.membership_written,
        None,
        Group.MEMBER,
    ),
    Action.PROJECT_CREATED: Rule(
        "created the project “{after[name]}”",
        state.project_created,
        None,
        None,
    ),
    # Not revertable: an admin sets the days back as they set them, in one more event.
    Action.PROJECT_FRESHNESS_CHANGED: Rule(
        "set how long verdicts stay fresh to {after:freshness} (was {before:freshness})",
        state.freshness_changed,
        None,
        None,
    ),
    Action.AUDIT_EXPORTED: Rule(
        "exported the audit trail ({after[format]})",
        None,
        None,
        Group.AUDIT,
    ),
    # Webhooks change nothing the fold holds; their deliveries are not audited (they are
    # derived from the events, which are).
    Action.WEBHOOK_ADDED: Rule("added a webhook to {after[url]}", None, None, None),
    Action.WEBHOOK_CHANGED: Rule(
        "changed the webhook to {before[url]} (now {after[url]})", None, None, None
    ),
    Action.WEBHOOK_PAUSED: Rule("paused the webhook to {after[url]}", None, None, None),
    Action.WEBHOOK_RESUMED: Rule("resumed the webhook to {after[url]}", None, None, None),
    Action.WEBHOOK_REMOVED: Rule("removed the webhook to {before[url]}", None, None, None),
    # Tokens change nothing the fold holds; a revoked token is not brought back (a new one
    # is made instead).
    Action.TOKEN_CREATED: Rule(
        "created the API token {target[token]} “{after[name]}” ({after[role]}, until "
        "{after[expires]})",
        None,
        None,
        None,
    ),
    Action.TOKEN_REVOKED: Rule(
        "revoked the API token {target[token]} “{before[name]}” of {target[owner]}",
        None,
        None,
        None,
    ),
    # The links are not folded: proposals are derived data (claims.recurring), and a
    # decision changes no claim, verdict or evidence that the fold holds.
    Action.SAME_CLAIM_CONFIRMED: Rule(
        "confirmed that claim {target[other]} in another article is the same claim",
        None,
        SAME_CLAIM,
        Group.CLAIM,
        other_claim=_same_claim_other,
    ),
    Action.SAME_CLAIM_REJECTED: Rule(
        "rejected the proposal that claim {target[other]} in another article is the same claim",
        None,
        SAME_CLAIM,
        Group.CLAIM,
        other_claim=_same_claim_other,
    ),
    Action.SAME_CLAIM_REOPENED: Rule(
        "put the link with claim {target[other]} back as proposed (was {before[state]})",
        None,
        SAME_CLAIM,
        Group.CLAIM,
        other_claim=_same_claim_other,
    ),
}

# The rules by their action's value: a stored body names its action as a string, which
# may be no Action at all (a rebuilt chain could hold any).
RULES_BY_VALUE: dict[str, Rule] = {action.value: rule for action, rule in RULES.items()}

ACTION_GROUPS = list(Group)
REVERTABLE = frozenset(action for action, rule in RULES.items() if rule.revert is not None)
