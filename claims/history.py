"""Audit events in words: timelines and activity lists, with field-level diffs.

Reading only: this module never writes. Blind review applies here as everywhere: an
analyst who has not tagged a claim sees no one else's events about it.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from claims.models import AuditEvent, Member, Role, Verdict
from claims.templatetags.claims_tags import web_host

PAGE_SIZE = 50
TEXT_FIELDS = {"rationale", "quote", "note", "title", "text"}
REVERTABLE = {
    "verdict.set",
    "verdict.changed",
    "verdict.cleared",
    "evidence.added",
    "evidence.removed",
    "evidence.restored",
    "claim.span_corrected",
    "adjudication.set",
    "adjudication.changed",
    "adjudication.withdrawn",
}


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any
    words: list[tuple[str, str]] | None = None  # ("equal" | "delete" | "insert", text)


@dataclass
class Entry:
    seq: int
    actor: str
    at: Any
    action: str
    words: str
    claim_id: int | None
    article_id: int | None
    reverts: int | None = None
    changes: list[Change] = field(default_factory=list)
    can_revert: bool = False


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """Word-level diff of two texts, as (operation, text) runs."""
    a, b = before.split(" "), after.split(" ")
    runs: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            runs.append(("equal", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            runs.append(("delete", " ".join(a[i1:i2])))
        if j2 > j1:
            runs.append(("insert", " ".join(b[j1:j2])))
    return runs


def changes(before: Any, after: Any) -> list[Change]:
    """Field-level differences between two event states (dicts, or None for absent)."""
    old = before if isinstance(before, dict) else {}
    new = after if isinstance(after, dict) else {}
    found = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b or isinstance(a, dict | list) or isinstance(b, dict | list):
            continue
        words = None
        if key in TEXT_FIELDS and isinstance(a, str) and isinstance(b, str) and a and b:
            words = word_diff(a, b)
        found.append(Change(key, a, b, words))
    return found


def _verdict(state: dict[str, Any] | None) -> str:
    if not state or not state.get("status"):
        return "no verdict"
    since = f", since {state['as_of']}" if state.get("as_of") else ""
    return f"{state['status']}{since}"


def _evidence(fields: dict[str, Any]) -> str:
    """The evidence's title with the host its link really goes to (a title can say
    anything), or its address when it has no title."""
    title, host = fields["title"], web_host(fields["url"])
    if not title:
        return fields["url"]
    return f"{title} ({host})" if host else title


def describe(body: dict[str, Any]) -> str:
    """The action in words, without the actor: 'changed their verdict from supported to
    outdated, since 2022-02-24'."""
    action, before, after = body["action"], body.get("before"), body.get("after")
    target = body.get("target") or {}
    match action:
        case "verdict.set":
            return f"set their verdict to {_verdict(after)}"
        case "verdict.changed":
            return f"changed their verdict from {_verdict(before)} to {_verdict(after)}"
        case "verdict.cleared":
            return f"cleared their verdict (it was {_verdict(before)})"
        case "evidence.added":
            return f"added {after['stance']} evidence: {_evidence(after)}"
        case "evidence.removed":
            return f"removed evidence: {_evidence(before)}"
        case "evidence.restored":
            return f"restored evidence: {_evidence(after)}"
        case "claim.span_corrected":
            return f"corrected the claim's text to “{after['text']}”"
        case "claim.split":
            return (
                f"split the claim in two; the new claim {after['right']['claim']} reads "
                f"“{after['right']['text']}”"
            )
        case "claim.merged":
            fates = ", ".join(
                f"{name}: {what['outcome']}" for name, what in sorted(after["verdicts"].items())
            )
            return f"merged claim {before['right']['claim']} into this one" + (
                f" (verdicts: {fates})" if fates else ""
            )
        case "adjudication.set":
            return f"adjudicated the claim as {_verdict(after)}"
        case "adjudication.changed":
            return f"changed the adjudication from {_verdict(before)} to {_verdict(after)}"
        case "adjudication.withdrawn":
            return f"withdrew the adjudication (it was {_verdict(before)})"
        case "article.imported":
            return f"imported “{after['title']}” ({len(after['claims'])} claims)"
        case "project.created":
            return f"created the project “{after['name']}”"
        case "member.added":
            return f"added {after['user']} as {after['role']}"
        case "member.role_changed":
            return f"made {after['user']} {after['role']} (was {before['role']})"
        case "member.removed":
            return f"removed {before['user']} (was {before['role']})"
        case "audit.exported":
            return f"exported the audit trail ({(after or {}).get('format', '')})"
        case _:
            return action.replace(".", " ").replace("_", " ") + (
                f" on claim {target['claim']}" if "claim" in target else ""
            )


def entry(event: AuditEvent, *, diffs: bool = True) -> Entry:
    """The event in words; ``diffs=False`` leaves out the field diffs (a short list)."""
    body = json.loads(event.body)
    actor = body["actor"] or "system"
    return Entry(
        seq=event.seq,
        actor=actor,
        at=parse_datetime(body["at"]),
        action=body["action"],
        words=describe(body),
        claim_id=event.claim_id,
        article_id=event.article_id,
        reverts=body.get("reverts"),
        changes=changes(body.get("before"), body.get("after")) if diffs else [],
    )


def visible_events(member: Member) -> QuerySet[AuditEvent]:
    """The project's events this member may read (blind review hides others' events on
    claims the member has not tagged yet)."""
    events = AuditEvent.objects.filter(chain__project=member.project)
    if member.sees_everything:
        return events
    user = member.user
    tagged = Verdict.objects.filter(analyst=user).exclude(status="").values("claim_id")
    return events.filter(Q(actor=user) | Q(claim_id__isnull=True) | Q(claim_id__in=tagged))


def page(events: QuerySet[AuditEvent], before: int | None) -> tuple[list[AuditEvent], int | None]:
    """One page, newest first, by keyset on seq: constant cost however long the log."""
    if before is not None:
        events = events.filter(seq__lt=before)
    rows = list(events.order_by("-seq")[: PAGE_SIZE + 1])
    more = rows[PAGE_SIZE].seq + 1 if len(rows) > PAGE_SIZE else None
    return rows[:PAGE_SIZE], more


def may_revert(entry: Entry, member: Member) -> bool:
    """Whether ``member`` may make the change that reverting this entry makes."""
    if entry.action not in REVERTABLE:
        return False
    name = member.user.get_username()
    if entry.action.startswith("verdict."):
        return entry.actor == name
    if entry.action.startswith("evidence."):
        return entry.actor == name or member.at_least(Role.ADMIN)
    return member.at_least(Role.REVIEWER)


def entries(events: list[AuditEvent], member: Member) -> list[Entry]:
    found = [entry(event) for event in events]
    for item in found:
        item.can_revert = may_revert(item, member)
    return found


def claim_history(claim_id: int, *, limit: int = 10, only_actor: Any = None) -> list[Entry]:
    """The latest events of a claim in words, newest first, without diffs (one query)."""
    events = AuditEvent.objects.filter(Q(claim_id=claim_id) | Q(other_claim_id=claim_id))
    if only_actor is not None:
        events = events.filter(actor=only_actor)
    events = events.only("seq", "body", "claim_id", "article_id").order_by("-seq")
    return [entry(event, diffs=False) for event in events[:limit]]
