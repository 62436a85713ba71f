"""Representations: models and the screens' views as the API's schemas give them, and the
pieces every list and every write shares (pages, ETags, If-Match)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest

from claims import reading
from claims.api.problems import PreconditionFailed
from claims.http import query_int
from claims.log import history
from claims.log.verify_export import parse_body
from claims.models import (
    Adjudication,
    Article,
    AuditEvent,
    Citation,
    Claim,
    Evidence,
    Member,
    Project,
    Verdict,
)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def after(value: str | None) -> int | None:
    """The keyset cursor: the last id (or seq) of the page before; None for the first
    page. A cursor that is no such number is refused (400), not read as the first page."""
    if value is None or value == "":
        return None
    number = query_int(value)
    if number is None:
        from ninja.errors import HttpError

        raise HttpError(400, "The cursor 'after' must be a value from a 'next' link.")
    return number


def by_pk(request: HttpRequest, rows: Any, after_: str | None, limit: int) -> dict[str, Any]:
    """One page of ``rows`` (a queryset) in primary-key order, after the cursor ``after_``."""
    start = after(after_)
    if start is not None:
        rows = rows.filter(pk__gt=start)
    return page(request, list(rows.order_by("pk")[: limit + 1]), limit, lambda row: row.pk)


def page(request: HttpRequest, items: Sequence[Any], limit: int, key: Any) -> dict[str, Any]:
    """One page of ``items`` (read with one more than ``limit``, to know whether another
    page follows), and the address of the next one."""
    shown = list(items[:limit])
    following = None
    if len(items) > limit:
        query = request.GET.copy()
        query["after"] = str(key(shown[-1]))
        query["limit"] = str(limit)
        following = f"{request.path}?{urlencode(sorted(query.items()))}"
    return {"items": shown, "next": following}


def etag(version: int) -> str:
    return f'"{version}"'


def if_match(request: HttpRequest, current: int) -> int:
    """The version the client's ``If-Match`` names, which must be ``current``: 412 when it
    is missing, unreadable or another version."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionFailed(
            "Send If-Match with the ETag you read (a write is made against a version)."
        )
    value = header.removeprefix("W/").strip('"')
    number = query_int(value)
    if number is None:
        raise PreconditionFailed(f"If-Match must be an ETag such as {etag(current)}.")
    if number != current:
        raise PreconditionFailed(
            f"If-Match {etag(number)} is not the current version, {etag(current)}: it changed "
            "since you read it. Read it again, then retry."
        )
    return number


def project(member: Member) -> dict[str, Any]:
    p: Project = member.project
    return {
        "slug": p.slug,
        "name": p.name,
        "description": p.description,
        "blind": p.blind,
        "min_verdicts": p.min_verdicts,
        "role": str(member.role),
    }


def article(a: Article) -> dict[str, Any]:
    return {
        "id": a.pk,
        "title": a.title,
        "author": a.author,
        "publication": a.publication,
        "published_on": a.published_on,
        "source_url": a.source_url,
        "filename": a.filename,
        "version": a.version,
        "sha256": a.sha256,
        "imported_at": a.imported_at,
    }


def citation(c: Citation) -> dict[str, Any]:
    return {"id": c.pk, "outlet": c.outlet, "when": c.when, "raw": c.raw}


def adjudication(claim_id: int, a: Adjudication | None) -> dict[str, Any]:
    if a is None:
        return {
            "claim": claim_id,
            "status": "",
            "rationale": "",
            "as_of": None,
            "reviewer": None,
            "version": 0,
            "decided_at": None,
        }
    return {
        "claim": claim_id,
        "status": a.status,
        "rationale": a.rationale,
        "as_of": a.as_of,
        "reviewer": a.reviewer.get_username(),
        "version": a.version,
        "decided_at": a.decided_at,
    }


def claim(view: reading.ClaimView) -> dict[str, Any]:
    """A claim as the member's view of it holds it (blind review applied by ``reading``)."""
    c = view.claim
    final = c.final
    return {
        "id": c.pk,
        "article": c.article_id,
        "number": c.ordinal,
        "start": c.start,
        "end": c.end,
        "text": c.text,
        "section": c.section,
        "version": c.version,
        "citations": [citation(x) for x in view.citations],
        "my_status": view.my_status,
        "my_version": view.my_version,
        "team_visible": view.team_visible,
        "counts": view.counts,
        "state": view.state,
        "final": adjudication(c.pk, final) if final is not None else None,
    }


def verdict(claim_id: int, analyst: str, v: Verdict | None) -> dict[str, Any]:
    """A verdict row; None stands for one never given (version 0)."""
    if v is None:
        return {
            "claim": claim_id,
            "analyst": analyst,
            "status": "",
            "rationale": "",
            "as_of": None,
            "recheck_by": None,
            "version": 0,
            "after_seeing_team": False,
        }
    return {
        "claim": claim_id,
        "analyst": analyst,
        "status": v.status,
        "rationale": v.rationale,
        "as_of": v.as_of,
        "recheck_by": v.recheck_by,
        "version": v.version,
        "after_seeing_team": v.after_seeing_team,
    }


def team(view: reading.ClaimView) -> dict[str, Any]:
    shown = ([view.mine] if view.mine is not None and view.mine.status else []) + view.others
    return {
        "claim": view.claim.pk,
        "visible": view.team_visible,
        "counts": view.counts,
        "state": view.state,
        "verdicts": [
            verdict(view.claim.pk, v.analyst.get_username(), v) for v in shown if view.team_visible
        ],
    }


def evidence(e: Evidence) -> dict[str, Any]:
    return {
        "id": e.pk,
        "claim": e.claim_id,
        "url": e.url,
        "title": e.title,
        "stance": e.stance,
        "quote": e.quote,
        "note": e.note,
        "added_by": e.added_by.get_username(),
        "added_at": e.added_at,
        "removed_at": e.removed_at,
    }


def event(e: AuditEvent) -> dict[str, Any]:
    body = parse_body(e.body)
    entry = history.entry(e, diffs=False)
    return {
        "seq": e.seq,
        "action": entry.action,
        "actor": body.get("actor"),
        "at": entry.at,
        "words": entry.words,
        "article": e.article_id,
        "claim": e.claim_id,
        "token": body.get("token"),
        "before": body.get("before"),
        "after": body.get("after"),
    }


def visible_claim(claim: Claim, member: Member) -> reading.ClaimView:
    """The member's view of one claim, as the panel builds it."""
    from claims import access

    return reading.claim_view(claim, access.claim_verdicts(claim), member, rechecks=False)
