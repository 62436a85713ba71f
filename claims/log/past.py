"""An article as it stood at a past moment, folded from the audit log.

The objects built here are unsaved model instances carrying the folded values, so the
article and consensus screens can show the past with the same code that shows the
present. Nothing here writes.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import threading
from collections import OrderedDict, defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import prefetch_related_objects
from django.utils import timezone

from claims.log.fold import fold
from claims.log.state import State
from claims.models import (
    Adjudication,
    Article,
    AuditEvent,
    BlockKind,
    Claim,
    Evidence,
    Project,
    Status,
    Verdict,
)
from claims.reading import Progress


class BadMoment(ValueError):
    """An as-of value that names no past moment; the message says why, for the user."""


def parse_moment(value: str) -> dt.datetime | None:
    """``YYYY-MM-DD`` (the end of that day, UTC) or ``YYYY-MM-DDTHH:MM[:SS][offset]``
    (UTC unless an offset is given), as an aware UTC datetime; None for an empty value.

    Raises BadMoment for anything else, for a moment outside the years 1-9999 once in
    UTC, and for a moment in the future: the past can be rebuilt, the future cannot.
    """
    value = value.strip()
    if not value:
        return None
    shown = value[:40]
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            moment = dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)
        else:
            moment = dt.datetime.fromisoformat(value)
            if timezone.is_naive(moment):
                moment = moment.replace(tzinfo=dt.UTC)
            moment = moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise BadMoment(
            f"“{shown}” is not a moment. Give a date (YYYY-MM-DD) or a date and time "
            "(YYYY-MM-DDTHH:MM), in UTC."
        ) from None
    now = timezone.now()
    # A date stands for the end of that day, so today means "now"; a time may run a
    # minute ahead, for clocks that differ a little.
    latest = (
        now + dt.timedelta(minutes=1)
        if len(value) != 10
        else now.replace(hour=23, minute=59, second=59, microsecond=999999)
    )
    if moment > latest:
        raise BadMoment(f"“{shown}” is in the future: as-of shows how things stood in the past.")
    return min(moment, now)


# Folded states by the hash of the last event folded, most recently used last. That hash
# commits to the whole chain before it, so the fold it names never changes: a state is
# computed once per process and shared by every as-of request that lands on the same
# event (opening claim after claim of one past screen). Two entries bound the memory a
# large project costs.
_FOLDS: OrderedDict[tuple[int, str], State] = OrderedDict()
FOLDS_KEPT = 2
_folds_lock = threading.Lock()


def state_at(project: Project, moment: dt.datetime) -> State:
    """The project's state after its last event at or before ``moment``.

    One indexed query finds that event; the log is read and folded (streamed, in seq
    order) only when no earlier request folded up to the same event. The state returned
    is shared: callers read it and never change it.
    """
    events = AuditEvent.objects.filter(chain__project=project)
    head, head_hash = (
        events.filter(created_at__lte=moment).order_by("-seq").values_list("seq", "hash").first()
    ) or (0, "")
    key = (project.pk, head_hash)
    with _folds_lock:
        if key in _FOLDS:
            _FOLDS.move_to_end(key)
            return _FOLDS[key]
    bodies = (
        events.filter(seq__lte=head)
        .order_by("seq")
        .values_list("body", flat=True)
        .iterator(chunk_size=2000)
    )
    state = fold(json.loads(body) for body in bodies)
    with _folds_lock:
        _FOLDS[key] = state
        while len(_FOLDS) > FOLDS_KEPT:
            _FOLDS.popitem(last=False)
    return state


class Past:
    """One article at one moment: claims, verdicts and evidence as unsaved instances."""

    def __init__(self, article: Article, moment: dt.datetime) -> None:
        self.state = state_at(article.project, moment)
        folded = self.state.articles.get(article.pk)
        # The text that stood then: an earlier version's, if the article was revised since.
        self.article = article.at_version(folded.version) if folded else article
        self.moment = moment
        names = {name for _claim, name in self.state.verdicts} | {
            a.reviewer for a in self.state.adjudications.values()
        }
        names |= {e.fields["added_by"] for e in self.state.evidence.values()}
        self.users = {
            u.get_username(): u for u in get_user_model().objects.filter(username__in=names)
        }
        self.claims = self._claims()

    def _claims(self) -> list[Claim]:
        article = self.article
        blocks = list(article.version_blocks())
        starts = [block.start for block in blocks]
        # The section each block is in: the last heading before it (one pass, not one per
        # claim: an article of 100,000 claims has tens of thousands of blocks).
        sections, current = [], ""
        for block in blocks:
            sections.append(current)
            if block.kind == BlockKind.HEADING:
                current = article.text[block.start : block.end]
        spans = sorted(
            (
                c
                for c in self.state.claims.values()
                if c.article == article.pk and c.retired_in is None
            ),
            key=lambda c: c.start,
        )
        statuses: dict[int, list[str]] = defaultdict(list)
        for (claim_id, _name), verdict in self.state.verdicts.items():
            if verdict.status:
                statuses[claim_id].append(verdict.status)
        claims = []
        for span in spans:
            index = max(bisect.bisect_right(starts, span.start) - 1, 0)
            claim = Claim(
                pk=span.id,
                article=article,
                block=blocks[index],
                ordinal=span.number,
                start=span.start,
                end=span.end,
                section=sections[index],
                sentence=0,
            )
            self._count(claim, statuses.get(span.id, []))
            claims.append(claim)
        prefetch_related_objects(claims, "citations")
        return claims

    def _count(self, claim: Claim, statuses: list[str]) -> None:
        for status in Status.values:
            setattr(claim, f"n_{status}", statuses.count(status))
        folded = self.state.adjudications.get(claim.pk)
        if folded is not None and folded.status:
            claim.adjudication = Adjudication(
                claim=claim,
                reviewer=self.users.get(folded.reviewer),
                status=folded.status,
                rationale=folded.rationale,
                as_of=_date(folded.as_of),
                version=folded.version,
            )
        else:
            # Cache "no adjudication" so that nothing asks the database for today's.
            Claim.adjudication.related.set_cached_value(claim, None)

    def verdicts(self, *, current_only: bool = True) -> list[Verdict]:
        ids = {claim.pk for claim in self.claims}
        return [
            Verdict(
                claim_id=claim_id,
                analyst=self.users[name],
                status=v.status,
                rationale=v.rationale,
                as_of=_date(v.as_of),
                version=v.version,
                after_seeing_team=v.after_seeing_team,
            )
            for (claim_id, name), v in self.state.verdicts.items()
            if claim_id in ids
            and name in self.users
            and (v.status or v.after_seeing_team or not current_only)
        ]

    def evidence(self, claim_id: int) -> list[Evidence]:
        return [
            Evidence(
                pk=e.id,
                claim_id=claim_id,
                url=e.fields["url"],
                title=e.fields["title"],
                stance=e.fields["stance"],
                quote=e.fields["quote"],
                note=e.fields["note"],
                added_by=self.users.get(e.fields["added_by"]),
            )
            for e in self.state.evidence.values()
            if e.claim == claim_id and not e.removed
        ]

    def progress(self, user: Any, min_verdicts: int) -> Progress:
        name = user.get_username()
        mine = sum(
            1
            for claim in self.claims
            if (v := self.state.verdicts.get((claim.pk, name))) is not None and v.status
        )
        team = sum(1 for claim in self.claims if sum(claim.counts().values()) >= min_verdicts)
        return Progress(total=len(self.claims), mine=mine, team=team)


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def describe_moment(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
