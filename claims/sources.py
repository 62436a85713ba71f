"""Every outlet a project's articles cite: how often and when, and what became of the claims
that cite it (how often claims citing TASS end up disputed).

The outcome of a claim is the team's answer as the consensus screen gives it (the
ruling, else a strict majority, else none yet), counted only where blind review lets the
member see it (``claims.tally``): a claim they may not see yet is counted as hidden.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from claims.models import Citation, Claim, Member, Status
from claims.tally import tally

SPARK_WIDTH, SPARK_HEIGHT = 160, 24  # the inline chart of citations per year, in px
UNDECIDED = "undecided"
OUTCOMES = (*Status.values, UNDECIDED)


@dataclass(frozen=True)
class Bar:
    year: int
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class Outlet:
    name: str
    citations: int = 0
    undated: int = 0
    per_year: Counter[int] = field(default_factory=Counter)
    per_month: Counter[str] = field(default_factory=Counter)  # "2021-09": citations
    claims: set[int] = field(default_factory=set)
    outcomes: Counter[str] = field(default_factory=Counter)  # of the claims the member sees
    hidden: int = 0  # claims blind review keeps from the member
    bars: list[Bar] = field(default_factory=list)

    @property
    def decided(self) -> int:
        return sum(self.outcomes[s] for s in Status.values)

    @property
    def disputed_share(self) -> float | None:
        """Of the claims citing it that have an answer the member sees, the disputed share."""
        return self.outcomes[Status.DISPUTED] / self.decided if self.decided else None

    @property
    def outcome_list(self) -> list[tuple[str, int]]:
        return [(outcome, self.outcomes[outcome]) for outcome in OUTCOMES]

    @property
    def months(self) -> list[tuple[str, int]]:
        return sorted(self.per_month.items())


def outlets(member: Member) -> tuple[list[Outlet], list[int]]:
    """The project's cited outlets, most cited first, each with its bars over ``years``
    (the second value): five queries, however many citations."""
    found: dict[str, Outlet] = {}
    rows = Citation.objects.filter(article__project=member.project).values_list(
        "outlet", "date", "precision"
    )
    for name, date, precision in rows:
        outlet = found.setdefault(name, Outlet(name))
        outlet.citations += 1
        if date is None:
            outlet.undated += 1
            continue
        outlet.per_year[date.year] += 1
        if precision in ("day", "month"):
            outlet.per_month[date.isoformat()[:7]] += 1
    cites = Claim.citations.through.objects.filter(
        claim__article__project=member.project,
        claim__retired_in__isnull=True,
        citation__retired_in__isnull=True,
    ).values_list("claim_id", "citation__outlet")
    by_claim: dict[int, set[str]] = defaultdict(set)
    for claim, name in cites:
        by_claim[claim].add(name)
    citing = Claim.objects.filter(pk__in=cites.values("claim_id"))
    for row in tally(citing, member).rows:
        for name in by_claim.get(row.claim.pk, ()):
            outlet = found[name]
            outlet.claims.add(row.claim.pk)
            if row.visible:
                outlet.outcomes[row.consensus_status or UNDECIDED] += 1
            else:
                outlet.hidden += 1
    years = sorted({year for outlet in found.values() for year in outlet.per_year})
    span = list(range(years[0], years[-1] + 1)) if years else []
    for outlet in found.values():
        outlet.bars = spark(outlet.per_year, span)
    ranked = sorted(found.values(), key=lambda o: (-o.citations, o.name.casefold()))
    return ranked, span


def spark(per_year: Counter[int], years: list[int]) -> list[Bar]:
    """One bar per year of ``years``, scaled to the outlet's busiest year. Pure."""
    if not years:
        return []
    top = max(per_year.values(), default=0) or 1
    width = SPARK_WIDTH / len(years)
    bars = []
    for i, year in enumerate(years):
        count = per_year.get(year, 0)
        height = round(SPARK_HEIGHT * count / top, 1)
        bars.append(
            Bar(
                year, count, round(i * width, 1), SPARK_HEIGHT - height, round(width - 1, 1), height
            )
        )
    return bars
