"""Audit events in words, for the claim timeline."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.utils.dateparse import parse_datetime

from claims.models import AuditEvent


@dataclass(frozen=True)
class Entry:
    seq: int
    actor: str
    at: Any
    action: str
    words: str


def _verdict(state: dict[str, Any] | None) -> str:
    if not state:
        return "no verdict"
    since = f", since {state['as_of']}" if state.get("as_of") else ""
    return f"{state['status']}{since}"


def describe(body: dict[str, Any]) -> str:
    """One sentence for an event body, e.g. 'changed the verdict from supported to outdated'."""
    action, before, after = body["action"], body.get("before"), body.get("after")
    match action:
        case "verdict.set":
            return f"set the verdict to {_verdict(after)}"
        case "verdict.changed":
            return f"changed the verdict from {_verdict(before)} to {_verdict(after)}"
        case "verdict.cleared":
            return f"cleared the verdict (was {_verdict(before)})"
        case "evidence.added":
            return f"added {after['stance']} evidence: {after['title'] or after['url']}"
        case "evidence.removed":
            return f"removed evidence: {before['title'] or before['url']}"
        case "claim.span_corrected":
            return f"corrected the span to “{after['text']}”"
        case "claim.split":
            return f"split the claim; the second part is “{after['right']['text']}”"
        case "claim.merged":
            return f"merged the next claim into this one ({len(after['verdicts'])} verdicts)"
        case _:
            return action.replace(".", " ").replace("_", " ")


def claim_history(claim_id: int, *, limit: int = 10, only_actor: Any = None) -> list[Entry]:
    """The latest events of a claim, newest first (one query)."""
    events = AuditEvent.objects.filter(claim_id=claim_id).order_by("-seq")
    if only_actor is not None:
        events = events.filter(actor=only_actor)
    entries = []
    for event in events[:limit]:
        body = json.loads(event.body)
        entries.append(
            Entry(
                seq=event.seq,
                actor=body["actor"] or "system",
                at=parse_datetime(body["at"]),
                action=body["action"],
                words=describe(body),
            )
        )
    return entries
