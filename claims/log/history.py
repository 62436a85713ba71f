"""Audit events in words: timelines and activity lists, with field-level diffs.

Reading only: this module never writes. Blind review applies here as everywhere: an
analyst who has not tagged a claim sees no one else's events about it.
"""

from __future__ import annotations

import difflib
import json
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from claims.log.actions import RULES, RULES_BY_VALUE, RevertBy
from claims.log.state import DEFAULT_FRESHNESS
from claims.models import AuditEvent, Member, Role, Verdict
from claims.templatetags.claims_tags import web_host

PAGE_SIZE = 50
TEXT_FIELDS = {"rationale", "quote", "note", "title", "text"}
REVERTABLE = frozenset(action for action, rule in RULES.items() if rule.revert is not None)


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
    recheck = f", to re-check by {state['recheck_by']}" if state.get("recheck_by") else ""
    return f"{state['status']}{since}{recheck}"


def _freshness(days: dict[str, Any]) -> str:
    """How long verdicts stay fresh: 'supported 180 days, disputed 90 days, outdated never'."""
    return ", ".join(  # in the statuses' order, not the body's (its keys are sorted)
        f"{status} {'never' if n is None else f'{n} day' + ('' if n == 1 else 's')}"
        for status in DEFAULT_FRESHNESS
        if status in days
        for n in [days[status]]
    )


def _evidence(fields: dict[str, Any]) -> str:
    """The evidence's title with the host its link really goes to (a title can say
    anything), or its address when it has no title."""
    url: str = fields["url"]
    title, host = fields["title"], web_host(url)
    if not title:
        return url
    return f"{title} ({host})" if host else title


def _fates(verdicts: dict[str, Any]) -> str:
    """What a merge did with each analyst's verdicts, if it had any to decide on."""
    fates = ", ".join(f"{name}: {what['outcome']}" for name, what in sorted(verdicts.items()))
    return f" (verdicts: {fates})" if fates else ""


class Words(string.Formatter):
    """Renders a rule's words (``claims.log.actions.Rule.words``): ``str.format`` fields
    over the body's ``before``, ``after`` and ``target``, and these format specs."""

    SPECS: ClassVar[dict[str, Callable[[Any], str]]] = {
        "verdict": _verdict,  # a verdict's or adjudication's state: "outdated, since ..."
        "evidence": _evidence,  # evidence fields: its title and where its link goes
        "fates": _fates,  # a merge's verdicts
        "count": lambda items: str(len(items)),
        # A claim's number as people know it (events before numbers were logged: its id).
        "number": lambda span: str(span.get("number", span["claim"])),
        "freshness": _freshness,  # days a verdict of each status stays fresh
    }
    FIELDS = ("before", "after", "target")

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec in self.SPECS:
            return self.SPECS[format_spec](value)
        text: str = super().format_field(value, format_spec)  # format(): always a str
        return text


WORDS = Words()


def describe(body: dict[str, Any]) -> str:
    """The action in words, without the actor: 'changed their verdict from supported to
    outdated, since 2022-02-24'."""
    action: str = body["action"]
    target = body.get("target") or {}
    rule = RULES_BY_VALUE.get(action)
    if rule is None:  # not an action the write path writes (a rebuilt chain could hold any)
        return action.replace(".", " ").replace("_", " ") + (
            f" on claim {target['claim']}" if "claim" in target else ""
        )
    return WORDS.format(
        rule.words, before=body.get("before"), after=body.get("after"), target=target
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
    rule = RULES_BY_VALUE.get(entry.action)
    if rule is None or rule.revert is None:
        return False
    mine: bool = entry.actor == member.user.get_username()  # Member.user is Any
    match rule.revert.by:
        case RevertBy.ACTOR:
            return mine
        case RevertBy.ACTOR_OR_ADMIN:
            return mine or member.at_least(Role.ADMIN)
        case RevertBy.REVIEWER:
            return member.at_least(Role.REVIEWER)


def entries(events: list[AuditEvent], member: Member) -> list[Entry]:
    found = [entry(event) for event in events]
    for item in found:
        item.can_revert = may_revert(item, member)
    return found
