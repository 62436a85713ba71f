"""The team's verdicts counted: per claim, per section, per analyst, and agreement figures.

One ``Tally`` serves the consensus screen, the disagreement queue and the consensus
export, so blind review is applied in one place: a claim the viewer may not see yet
(``Row.visible`` false) contributes nothing they can read, and the agreement figures
are computed over the claims they can see.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from claims import agreement, consensus
from claims.models import Article, Claim, ClaimQuerySet, Member, Status, Verdict

if TYPE_CHECKING:
    from claims.charts import Segment


@dataclass(frozen=True, slots=True)
class Said:
    """One current verdict, as the tally needs it: read as plain values, not as models."""

    claim_id: int
    analyst: str
    status: str
    rationale: str
    as_of: dt.date | None
    after_seeing_team: bool = False

    def get_status_display(self) -> str:
        return Status(self.status).label

    @classmethod
    def of(cls, verdict: Verdict) -> Said:
        return cls(
            verdict.claim_id,
            verdict.analyst.get_username(),
            verdict.status,
            verdict.rationale,
            verdict.as_of,
            verdict.after_seeing_team,
        )


@dataclass
class Row:
    claim: Claim
    visible: bool
    counts: dict[str, int] = field(default_factory=dict)
    state: str = consensus.UNREVIEWED
    verdicts: dict[str, Said] = field(default_factory=dict)  # analyst username -> verdict
    mine: str = ""
    # Filled in by the consensus views: the claim's stacked bar (SVG), and per analyst
    # their verdict and evidence (the queue's side-by-side columns).
    bar: list[Segment] = field(default_factory=list)
    columns: list[tuple[str, Any, list[Any]]] = field(default_factory=list)
    # Whose shown verdicts have new evidence on the claim since they last stood by them.
    new_evidence: list[str] = field(default_factory=list)
    # Blind projects: who cleared their verdict after it had shown them the team's.
    cleared_after_seeing_team: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def agreement(self) -> float:
        """Share of the largest group among the claim's verdicts (1.0 when unanimous)."""
        return max(self.counts.values()) / self.total if self.total else 1.0

    @property
    def consensus_status(self) -> str | None:
        """The team's answer: the adjudication, else a strict majority, else none."""
        final = self.claim.final
        if final is not None:
            return final.status
        if self.state in (consensus.UNANIMOUS, consensus.MAJORITY):
            return max(self.counts, key=self.counts.__getitem__)
        return None

    def segments(self) -> list[tuple[str, int, float]]:
        """(status, count, percent of the bar) for a stacked bar, in a fixed order."""
        return [
            (status, self.counts[status], 100 * self.counts[status] / self.total)
            for status in Status.values
            if self.counts.get(status)
        ]


@dataclass
class Tally:
    rows: list[Row]
    raters: list[str]
    summary: agreement.Summary
    blind_limited: bool  # figures rest on the viewer's own claims only

    def by_section(self) -> list[tuple[str, dict[str, int]]]:
        sections: dict[str, Counter[str]] = defaultdict(Counter)
        for row in self.rows:
            if row.visible:
                sections[row.claim.section or "(no section)"].update(row.counts)
        return [(name, dict(counts)) for name, counts in sections.items()]

    def queue(self) -> list[Row]:
        """Claims the team disagrees on and nobody adjudicated: contested first, then the
        lowest agreement first."""
        disputed = [
            r
            for r in self.rows
            if r.visible and r.state in (consensus.CONTESTED, consensus.MAJORITY)
        ]
        return sorted(
            disputed,
            key=lambda r: (
                r.state != consensus.CONTESTED,
                r.agreement,
                r.claim.article_id,
                r.claim.start,
            ),
        )


def tally(claims: ClaimQuerySet, member: Member, *, citations: bool = False) -> Tally:
    """Count the verdicts of ``claims`` as ``member`` may see them: three queries (and one
    more for each claim's ``citations``, which only exports show)."""
    query = claims.with_consensus().order_by("article_id", "start")
    counted = list(query.prefetch_related("citations") if citations else query)
    # Each article (and its text) once, not once per claim.
    articles = Article.objects.in_bulk({claim.article_id for claim in counted})
    cache_article = Claim.article.field.set_cached_value
    for claim in counted:
        cache_article(claim, articles[claim.article_id])
    rows = (
        Verdict.objects.filter(claim__in=claims.values("pk"))
        .filter(Q(status__gt="") | Q(after_seeing_team=True))
        .values_list(
            "claim_id", "analyst__username", "status", "rationale", "as_of", "after_seeing_team"
        )
    )
    return tally_of(counted, (Said(*row) for row in rows), member)


def tally_of(claims: list[Claim], verdicts: Iterable[Said], member: Member) -> Tally:
    """The tally of claims (carrying ``with_consensus()`` counts) and their current
    verdicts, however they were obtained: from the database or folded from the log.
    A cleared verdict (empty status) only says who cleared it after seeing the team."""
    rows = [Row(claim=claim, visible=True) for claim in claims]
    by_claim: dict[int, dict[str, Said]] = defaultdict(dict)
    cleared: dict[int, list[str]] = defaultdict(list)
    for said in verdicts:
        if said.status:
            by_claim[said.claim_id][said.analyst] = said
        elif said.after_seeing_team:
            cleared[said.claim_id].append(said.analyst)
    project, everything = member.project, member.sees_everything
    me = member.user.get_username()
    for row in rows:
        given = by_claim.get(row.claim.pk, {})
        row.mine = given[me].status if me in given else ""
        row.visible = everything or bool(row.mine)
        if row.visible:
            row.verdicts = given
            row.cleared_after_seeing_team = sorted(cleared.get(row.claim.pk, []))
            row.counts = row.claim.counts()
            row.state = row.claim.consensus(project.min_verdicts)
    raters = sorted({name for row in rows for name in row.verdicts})
    return Tally(
        rows=rows, raters=raters, summary=_summary(rows, raters), blind_limited=not everything
    )


def _summary(rows: list[Row], raters: list[str]) -> agreement.Summary:
    visible = [row for row in rows if row.visible]
    table = [
        [row.verdicts[name].status if name in row.verdicts else None for name in raters]
        for row in visible
    ]
    return agreement.summarise(table, raters, [row.consensus_status for row in visible])
