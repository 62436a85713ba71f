"""What one member sees of an article: claims with their verdict state, filters, progress.

Blind review is decided here, once, for every page and fragment that shows verdicts:
``ClaimView.team_visible`` is false for an analyst who has not yet given a verdict in a
blind project, and nothing about other verdicts leaves this module for that claim.
Who is asking comes in as a ``Member``, from the view's access helper.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count
from django.http import QueryDict
from django.utils import timezone

from claims import consensus, recheck
from claims.alignment import word_diff
from claims.log import history
from claims.models import (
    Article,
    Citation,
    Claim,
    Member,
    Project,
    Role,
    Status,
    Verdict,
    merge_fates,
)
from claims.revising import removed_in_latest

SHOW_CHOICES = [
    ("all", "All claims"),
    ("untagged", "Not yet tagged by me"),
    ("contested", "Contested"),
    ("supported", "Supported by me"),
    ("disputed", "Disputed by me"),
    ("outdated", "Outdated by me"),
    ("due", "Due for re-check by me"),
]
SHOW_VALUES = {value for value, _label in SHOW_CHOICES}
WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Filters:
    show: str = "all"
    section: str = ""
    q: str = ""

    @classmethod
    def from_query(cls, query: QueryDict) -> Filters:
        show = query.get("show", "all")
        return cls(
            show=show if show in SHOW_VALUES else "all",
            section=query.get("section", "")[:300],
            q=query.get("q", "").strip()[:200],
        )

    @property
    def active(self) -> bool:
        return self != Filters()

    def query(self, **extra: Any) -> str:
        """The filters (and ``extra``) as a query string, leaving out defaults."""
        params = {"show": self.show if self.show != "all" else "", "section": self.section}
        params |= {"q": self.q, **extra}
        return urlencode({k: v for k, v in params.items() if v not in ("", None)})


@dataclass
class ClaimView:
    claim: Claim
    team_visible: bool
    my_status: str = ""
    my_version: int = 0  # of the viewer's verdict row, cleared or not (0: none)
    counts: dict[str, int] = field(default_factory=dict)
    state: str = consensus.UNREVIEWED
    mine: Verdict | None = None  # the viewer's row itself: loaded for the panel only
    others: list[Verdict] = field(default_factory=list)  # panel only
    matches: bool = True
    href: str = ""
    selected: bool = False
    citations: list[Citation] = field(default_factory=list)
    due: recheck.Due = recheck.NOT_DUE  # the viewer's own verdict's, for them alone

    @property
    def state_label(self) -> str:
        return consensus.STATE_LABELS[self.state] if self.team_visible else "Hidden until you tag"

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _view(
    claim: Claim,
    project: Project,
    counts: dict[str, int],
    my_status: str,
    my_version: int,
    everything: bool,
) -> ClaimView:
    """The member's view of a claim from its current verdicts per status (blind review
    applied: ``everything`` is whether the member sees every verdict regardless)."""
    visible = everything or bool(my_status)
    view = ClaimView(claim, visible, my_status, my_version)
    if visible:
        view.counts = counts
        view.state = consensus.consensus_state(
            view.counts, min_verdicts=project.min_verdicts, adjudicated=claim.final is not None
        )
    return view


def claim_view(
    claim: Claim, verdicts: list[Verdict], member: Member, *, rechecks: bool = True
) -> ClaimView:
    """The member's view of one claim, from all of its verdict rows (cleared ones too);
    with whether their own verdict is due for re-check now, unless ``rechecks`` is false
    (a past moment)."""
    user = member.user
    mine = next((v for v in verdicts if v.analyst_id == user.pk), None)
    current = [v for v in verdicts if v.status]
    my_status, my_version = (mine.status, mine.version) if mine else ("", 0)
    counts = dict(Counter(v.status for v in current))
    view = _view(claim, member.project, counts, my_status, my_version, member.sees_everything)
    view.mine = mine
    if rechecks and mine is not None:
        freshness = recheck.Freshness.of(member.project)
        view.due = recheck.verdict_due(mine, claim, freshness, timezone.localdate())
    view.citations = list(claim.citations.all())
    if view.team_visible:
        view.others = [v for v in current if v.analyst_id != user.pk]
    return view


def reading_claims(article: Article, member: Member) -> tuple[list[ClaimView], Progress]:
    """Every claim of the article as the member sees it, in text order, and the progress
    of the member and the team: five queries, whatever the article's size.

    Verdicts are counted per claim and status in SQL, and the member's own come as plain
    tuples: the screen needs counts, not thousands of model instances.
    """
    claims = list(article.claims.select_related("adjudication").order_by("start"))
    # Citations through the link table in one plain query: far cheaper than a prefetch
    # that builds a queryset per claim.
    cited = {c.pk: c for c in article.citations.all()}
    citations: dict[int, list[Citation]] = {}
    links = Claim.citations.through.objects.filter(claim__article=article)
    for claim_id, citation_id in links.values_list("claim_id", "citation_id").order_by("pk"):
        citations.setdefault(claim_id, []).append(cited[citation_id])
    verdicts = Verdict.objects.filter(claim__article=article)
    counts: dict[int, dict[str, int]] = {}
    per_status = verdicts.exclude(status="").values_list("claim_id", "status")
    for claim_id, status, n in per_status.annotate(n=Count("pk")).order_by():
        counts.setdefault(claim_id, {})[status] = n
    mine = {
        row[0]: row[1:]
        for row in verdicts.filter(analyst=member.user.pk).values_list(
            "claim_id", "status", "version", "checked_at", "recheck_by"
        )
    }
    project = article.project
    everything = member.sees_everything
    freshness, today = recheck.Freshness.of(project), timezone.localdate()
    views = []
    cache_article = Claim.article.field.set_cached_value
    for claim in claims:
        cache_article(claim, article)  # claim.text reads the article's text
        my_status, my_version, checked_at, recheck_by = mine.get(claim.pk, ("", 0, None, None))
        view = _view(claim, project, counts.get(claim.pk, {}), my_status, my_version, everything)
        view.citations = citations.get(claim.pk, [])
        if my_status and checked_at is not None:
            view.due = recheck.due(
                status=my_status,
                checked_at=checked_at,
                recheck_by=recheck_by,
                freshness=freshness,
                evidence_changed_at=claim.evidence_changed_at,
                revised_at=claim.revised_at,
                today=today,
            )
        views.append(view)
    # Team progress is an aggregate over the whole article: blind review does not hide it.
    needed = project.min_verdicts
    team = sum(1 for by_status in counts.values() if sum(by_status.values()) >= needed)
    tagged = sum(1 for status, *_rest in mine.values() if status)
    return views, Progress(total=len(claims), mine=tagged, team=team)


def apply_filters(views: list[ClaimView], filters: Filters) -> int:
    """Mark which claims match; returns how many do."""
    needle = filters.q.casefold()
    count = 0
    for view in views:
        show = filters.show
        ok = (
            show == "all"
            or (show == "untagged" and not view.my_status)
            or (show == "contested" and view.team_visible and view.state == consensus.CONTESTED)
            or (show in Status.values and view.my_status == show)
            or (show == "due" and view.due.is_due)
        )
        ok = ok and (not filters.section or view.claim.section == filters.section)
        ok = ok and (not needle or needle in view.claim.text.casefold())
        view.matches = ok
        count += ok
    return count


@dataclass(frozen=True)
class Progress:
    total: int
    mine: int
    team: int  # claims with at least the project's minimum of verdicts

    @property
    def mine_percent(self) -> int:
        return round(100 * self.mine / self.total) if self.total else 0

    @property
    def team_percent(self) -> int:
        return round(100 * self.team / self.total) if self.total else 0


def progress(article: Article, user: Any) -> Progress:
    """The member's and the team's progress on an article, counted in SQL (three queries).

    Team progress is an aggregate over the whole article, so blind review does not hide it.
    """
    current = Verdict.objects.filter(claim__article=article).exclude(status="")
    mine = current.filter(analyst=user).count()
    per_claim = current.values("claim").annotate(n=Count("pk"))
    team = sum(1 for row in per_claim if row["n"] >= article.project.min_verdicts)
    return Progress(total=article.claims.count(), mine=mine, team=team)


def sections(views: list[ClaimView]) -> list[str]:
    seen: dict[str, None] = {}
    for view in views:
        if view.claim.section:
            seen.setdefault(view.claim.section)
    return list(seen)


def reading_blocks(article: Article, views: list[ClaimView]) -> list[dict[str, Any]]:
    """The article as paragraphs, each a list of plain-text and claim pieces (one query)."""
    by_block: dict[int, list[ClaimView]] = {}
    for view in views:
        by_block.setdefault(view.claim.block_id, []).append(view)
    text = article.text
    blocks = []
    for block in article.version_blocks():
        pieces: list[dict[str, Any]] = []
        cursor = block.start
        for view in by_block.get(block.pk, []):
            claim = view.claim
            if claim.start > cursor:
                pieces.append({"text": text[cursor : claim.start]})
            pieces.append({"view": view})
            cursor = claim.end
        if cursor < block.end:
            pieces.append({"text": text[cursor : block.end]})
        blocks.append({"block": block, "pieces": pieces})
    return blocks


def split_choices(claim: Claim, words: int = 4) -> list[tuple[int, str]]:
    """Word starts inside a claim where a reviewer may split it, with a readable label."""
    text = claim.text
    starts = [m.start() for m in WORD.finditer(text)][1:]
    choices = []
    for at in starts:
        left = " ".join(text[:at].split()[-words:])
        right = " ".join(text[at:].split()[:words])
        choices.append((claim.start + at, f"…{left} ‖ {right}…"))
    return choices


def panel(claim: Claim, member: Member, *, verdicts: list[Verdict] | None = None) -> dict[str, Any]:
    """Everything the claim panel shows, for this member (a fixed number of queries)."""
    user = member.user
    if verdicts is None:
        verdicts = list(claim.verdicts.select_related("analyst"))
    view = claim_view(claim, verdicts, member)
    evidence = claim.evidence.filter(removed_at__isnull=True).select_related("added_by")
    if not view.team_visible:
        evidence = evidence.filter(added_by=user)
    can_edit = member.at_least(Role.REVIEWER)
    next_claim = claim.next_in_sentence() if can_edit else None
    return {
        "member": member,
        "view": view,
        "claim": claim,
        "citations": view.citations,
        "evidence": list(evidence),
        "history": history.claim_history(claim.pk, only_actor=None if view.team_visible else user),
        "can_tag": member.at_least(Role.ANALYST),
        "can_edit": can_edit,
        "split_choices": split_choices(claim) if can_edit else [],
        "next_claim": next_claim,
        "merge_preview": merge_preview(claim, verdicts, next_claim) if next_claim else None,
        # An article revision changed the words: what they were, and what they are.
        "revised_diff": (
            word_diff(claim.wording_before, claim.text) if claim.revised_in is not None else []
        ),
        # A reviewer corrects the latest revision's alignment: unlink an edited claim, or
        # link a claim nobody has assessed to one the revision removed.
        "can_unlink": can_edit and claim.revised_in == claim.article.version > 1,
        "link_choices": (
            removed_in_latest(claim.article)
            if can_edit and claim.article.version > 1 and not verdicts and claim.final is None
            else []
        ),
    }


def merge_preview(claim: Claim, verdicts: list[Verdict], following: Claim) -> dict[str, Any]:
    """What merging ``following`` into ``claim`` would do, said before it is done: each
    analyst's verdicts by fate (``models.merge_fates``) and the evidence that moves."""
    theirs = list(following.verdicts.exclude(status="").select_related("analyst"))
    fates = merge_fates(
        {v.analyst.get_username(): v.status for v in verdicts},
        {v.analyst.get_username(): v.status for v in theirs},
    )
    by_fate: dict[str, list[str]] = {}
    for name, fate in fates.items():
        by_fate.setdefault(fate, []).append(name)
    return {
        "fates": by_fate,
        "evidence": following.evidence.filter(removed_at__isnull=True).count(),
    }
