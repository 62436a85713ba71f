"""What one member sees of an article: claims with their verdict state, filters, progress,
a page of the text at a time.

Blind review is decided here, once, for every page and fragment that shows verdicts:
``ClaimView.team_visible`` is false for an analyst who has not yet given a verdict in a
blind project, and nothing about other verdicts leaves this module for that claim.
Who is asking comes in as a ``Member``, from the view's access helper.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlencode

from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.lookups import GreaterThanOrEqual
from django.http import QueryDict
from django.utils import timezone

from claims import access, consensus, recheck
from claims.alignment import word_diff
from claims.http import query_int, query_text
from claims.log import history
from claims.models import (
    Adjudication,
    Article,
    BlockKind,
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
            # The section goes into SQL: without NUL, which PostgreSQL text cannot hold.
            section=query_text(query.get("section"), 300),
            q=query_text(query.get("q"), 200),
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
    claim: Claim,
    verdicts: list[Verdict],
    member: Member,
    *,
    rechecks: bool = True,
    cited: bool = True,
) -> ClaimView:
    """The member's view of one claim, from all of its verdict rows (cleared ones too);
    with whether their own verdict is due for re-check now, unless ``rechecks`` is false
    (a past moment), and its citations (one query) unless ``cited`` is false."""
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
    if cited:
        view.citations = access.claim_citations(claim)
    if view.team_visible:
        view.others = [v for v in current if v.analyst_id != user.pk]
    return view


def claim_views(article: Article, member: Member, claims: list[Claim]) -> list[ClaimView]:
    """The member's views of these claims of the article (a page of them), in the order
    given: two queries, whatever the article's size.

    Their verdicts come as plain tuples, counted here: a page's claims have a few verdicts
    each, and the screen needs counts, not the team's model instances.
    """
    ids = [claim.pk for claim in claims]
    citations: dict[int, list[Citation]] = {}
    links = Claim.citations.through.objects.filter(claim_id__in=ids).select_related("citation")
    for link in links.order_by("pk"):
        citations.setdefault(link.claim_id, []).append(link.citation)
    counts: dict[int, dict[str, int]] = {}
    mine: dict[int, tuple[str, int, Any, Any]] = {}
    columns = ("claim_id", "analyst_id", "status", "version", "checked_at", "recheck_by")
    rows = Verdict.objects.filter(claim_id__in=ids).order_by("claim_id", "status")
    me = member.user.pk
    for claim_id, analyst_id, status, version, checked_at, recheck_by in rows.values_list(*columns):
        if status:
            by_status = counts.setdefault(claim_id, {})
            by_status[status] = by_status.get(status, 0) + 1
        if analyst_id == me:
            mine[claim_id] = (status, version, checked_at, recheck_by)
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
                evidence_changed_by=claim.evidence_changed_by_id,
                analyst=me,
                revised_at=claim.revised_at,
                today=today,
            )
        views.append(view)
    return views


def apply_filters(views: list[ClaimView], filters: Filters) -> int:
    """Mark which claims match; returns how many do. (Claims held in memory: an article
    at a past moment; today's are filtered in SQL by ``matching``.)"""
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


Key = tuple[int, int, int]  # a claim's place: its block's ordinal, its start, its id


def matching(article: Article, member: Member, filters: Filters) -> list[Key]:
    """The places of the claims that match the filters, over the whole article, in text
    order (one query): as ``apply_filters`` decides, in SQL but for the words searched for,
    which are looked for in the article's text, already in memory.

    Reads one small row per claim that passes the SQL part: a filtered screen costs more
    with the article's length; the unfiltered one does not (``stretch`` reads a page).
    """
    user = member.user
    rows = Claim.objects.filter(article=article).order_by("start")
    if filters.section:
        rows = rows.filter(section=filters.section)
    mine = Verdict.objects.filter(claim=OuterRef("pk"), analyst=user).exclude(status="")
    show = filters.show
    if show == "untagged":
        rows = rows.filter(~Exists(mine))
    elif show in Status.values:
        rows = rows.filter(Exists(mine.filter(status=show)))
    elif show == "due":
        due = Verdict.objects.filter(analyst=user, claim__article=article).exclude(status="")
        due = due.annotate(due_on=recheck.due_on(recheck.Freshness.of(member.project)))
        rows = rows.filter(pk__in=due.filter(due_on__lte=timezone.localdate()).values("claim"))
    elif show == "contested":
        if not member.sees_everything:  # blind review: only where the team shows to them
            rows = rows.filter(Exists(mine))
        ruled = Adjudication.objects.filter(claim=OuterRef("pk")).exclude(status="")
        rows = rows.with_consensus().filter(~Exists(ruled))
    columns = ["block__ordinal", "start", "pk", "end"]
    if show == "contested":
        columns += [f"n_{status}" for status in Status.values]
    needle, text, least = filters.q.casefold(), article.text, article.project.min_verdicts
    found = []
    for ordinal, start, pk, end, *counts in rows.values_list(*columns):
        if needle and needle not in text[start:end].casefold():
            continue
        if counts:
            by_status = {status: n for status, n in zip(Status.values, counts, strict=True) if n}
            state = consensus.consensus_state(by_status, min_verdicts=least, adjudicated=False)
            if state != consensus.CONTESTED:
                continue
        found.append((ordinal, start, pk))
    return found


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
    """The member's and the team's progress on the article's claims, in one aggregate query
    (no claim is loaded). Team progress is over the whole article: blind review does not
    hide it."""
    # Subqueries per claim, through the verdicts' claim index: the cost follows the
    # article's claims. (Joined and grouped instead, PostgreSQL reads every verdict of the
    # database for a middling article.)
    standing = Verdict.objects.filter(claim=OuterRef("pk")).exclude(status="").order_by()
    per_claim = standing.values("claim").annotate(n=Count("pk")).values("n")
    least = max(article.project.min_verdicts, 1)  # a claim with no verdict has no consensus
    totals = article.claims.order_by().aggregate(
        total=Count("pk"),
        mine=Count("pk", filter=Exists(standing.filter(analyst=user))),
        team=Count("pk", filter=GreaterThanOrEqual(Subquery(per_claim), least)),
    )
    return Progress(total=totals["total"], mine=totals["mine"], team=totals["team"])


def sections(article: Article) -> list[str]:
    """The sections of the article, in order: its headings, as its claims keep them (one
    query over the headings, far fewer than the claims)."""
    headings = article.version_blocks().filter(kind=BlockKind.HEADING)
    text, seen = article.text, dict[str, None]()
    for start, end in headings.values_list("start", "end"):
        seen.setdefault(text[start:end][:300])
    return list(seen)


def sections_of(views: list[ClaimView]) -> list[str]:
    """The sections of claims held in memory, in the order they begin."""
    seen: dict[str, None] = {}
    for view in views:
        if view.claim.section:
            seen.setdefault(view.claim.section)
    return list(seen)


# -- Pages ------------------------------------------------------------------------------
#
# The screen shows an article a page at a time, so that the first screen of a 100,000-claim
# article costs what a 100-claim one does: whole blocks (paragraphs) holding up to
# PAGE_CLAIMS claims, found by their ordinal (indexed with the article and version), never
# by counting from the start. A block with more claims than a page is cut between two of
# them. The next page loads as the reader scrolls to its link, or follows the link.

PAGE_CLAIMS = 100
PAGE_BLOCKS = 200  # a run of headings, captions and the like ends a page too


@dataclass(frozen=True, order=True)
class Cursor:
    """A place where a page starts or ends: before the block with this ordinal, or, inside
    a block longer than a page, before its claim that starts at ``at``."""

    block: int = 0
    at: int = 0

    @classmethod
    def parse(cls, value: str | None) -> Cursor | None:
        """``12`` or ``12.5400``, as ``str()`` writes them; else None."""
        block, dot, at = (value or "").partition(".")
        number, offset = query_int(block), (query_int(at) if dot else 0)
        return None if number is None or offset is None else cls(number, offset)

    def __str__(self) -> str:
        return f"{self.block}.{self.at}" if self.at else str(self.block)


START = Cursor()


class Paragraph(NamedTuple):
    """A block as a page shows it: a plain row (a page reads a couple of hundred)."""

    pk: int
    ordinal: int
    kind: str
    start: int
    end: int


PARAGRAPH = Paragraph._fields


class Text(Protocol):
    """Where pages come from: the blocks and claims on one side of a cursor, nearest first
    (``forward``: from it on, in text order; else before it, backward)."""

    def first(self, cursor: Cursor) -> bool:
        """Whether nothing is shown before ``cursor``."""
        ...

    def blocks(self, cursor: Cursor, forward: bool, limit: int) -> list[Paragraph]: ...

    def claims(
        self, blocks: list[Paragraph], cursor: Cursor, forward: bool, limit: int
    ) -> list[Claim]:
        """Up to ``limit`` claims of ``blocks`` on that side of ``cursor``, nearest first."""
        ...


class StoredText:
    """The article's current text, read a page at a time: all its blocks, or with
    ``shown`` only those that hold these claims (the filters' matches, in text order)."""

    def __init__(self, article: Article, shown: list[Key] | None = None) -> None:
        self.article, self.shown = article, shown

    def first(self, cursor: Cursor) -> bool:
        if self.shown is None:
            return cursor == START
        return bisect.bisect_left(self.shown, (cursor.block, cursor.at)) == 0

    def blocks(self, cursor: Cursor, forward: bool, limit: int) -> list[Paragraph]:
        rows = self.article.version_blocks()
        if self.shown is not None:
            rows = rows.filter(ordinal__in=self._ordinals(cursor, forward, limit))
        elif forward:
            rows = rows.filter(ordinal__gte=cursor.block)
        elif cursor.at:
            rows = rows.filter(ordinal__lte=cursor.block)
        else:
            rows = rows.filter(ordinal__lt=cursor.block)
        rows = rows.order_by("ordinal" if forward else "-ordinal")
        return [Paragraph(*row) for row in rows.values_list(*PARAGRAPH)[:limit]]

    def _ordinals(self, cursor: Cursor, forward: bool, limit: int) -> list[int]:
        """The ordinals of the next ``limit`` blocks with shown claims on that side."""
        shown = self.shown or []
        index = bisect.bisect_left(shown, (cursor.block, cursor.at))
        places = range(index, len(shown)) if forward else range(index - 1, -1, -1)
        ordinals: list[int] = []
        for i in places:
            ordinal = shown[i][0]
            if not ordinals or ordinals[-1] != ordinal:
                if len(ordinals) == limit:
                    break
                ordinals.append(ordinal)
        return ordinals

    def claims(
        self, blocks: list[Paragraph], cursor: Cursor, forward: bool, limit: int
    ) -> list[Claim]:
        rows = Claim.objects.filter(block_id__in=[block.pk for block in blocks])
        if cursor.at:  # the claims of the blocks on either side all start on that side
            side = "start__gte" if forward else "start__lt"
            rows = rows.filter(**{side: cursor.at})
        rows = rows.select_related("adjudication").order_by("start" if forward else "-start")
        return list(rows[:limit])


class HeldText:
    """A text whose blocks and claims are all in memory (an article at a past moment),
    with ``shown`` the ids of the claims whose blocks are shown (None: all blocks)."""

    def __init__(
        self, blocks: list[Paragraph], claims: list[Claim], shown: set[int] | None
    ) -> None:
        self.by_block: dict[int, list[Claim]] = {}
        for claim in claims:
            self.by_block.setdefault(claim.block_id, []).append(claim)
        if shown is not None:
            held = {claim.block_id for claim in claims if claim.pk in shown}
            blocks = [block for block in blocks if block.pk in held]
        self.held, self.ordinals = blocks, [block.ordinal for block in blocks]

    def first(self, cursor: Cursor) -> bool:
        return not self.ordinals or cursor <= Cursor(self.ordinals[0])

    def blocks(self, cursor: Cursor, forward: bool, limit: int) -> list[Paragraph]:
        index = bisect.bisect_left(self.ordinals, cursor.block)
        if forward:
            return self.held[index : index + limit]
        end = bisect.bisect_right(self.ordinals, cursor.block) if cursor.at else index
        return self.held[max(end - limit, 0) : end][::-1]

    def claims(
        self, blocks: list[Paragraph], cursor: Cursor, forward: bool, limit: int
    ) -> list[Claim]:
        found: list[Claim] = []
        for block in blocks:
            held = self.by_block.get(block.pk, [])
            for claim in held if forward else held[::-1]:
                if cursor.at and (claim.start < cursor.at if forward else claim.start >= cursor.at):
                    continue
                if len(found) == limit:
                    return found
                found.append(claim)
        return found


@dataclass
class Stretch:
    """The blocks and claims of one page, in text order, between ``start`` (None: nothing
    is shown before it) and ``end`` (None: nothing is shown after it)."""

    blocks: list[Paragraph]
    claims: list[Claim]
    start: Cursor | None
    end: Cursor | None


def stretch(text: Text, cursor: Cursor, *, forward: bool = True, limit: int = 0) -> Stretch:
    """The page that starts at ``cursor`` (or, backward, ends there): whole blocks up to
    ``limit`` claims (``PAGE_CLAIMS``) and ``PAGE_BLOCKS`` blocks, but for a block with more
    claims than a page, which is cut between two claims. Two queries (stored text)."""
    limit = limit or PAGE_CLAIMS
    blocks = text.blocks(cursor, forward, PAGE_BLOCKS + 1)
    claims = text.claims(blocks, cursor, forward, limit + 1) if blocks else []
    beyond = None  # forward: where the next page starts; backward: where this one does
    over = claims[limit] if len(claims) > limit else None  # the first claim beyond the page
    # Whole blocks end where the block of the claim beyond begins, or at PAGE_BLOCKS ...
    at = len(blocks) if over is None else [b.pk for b in blocks].index(over.block_id)
    if over is not None and over.block_id == claims[0].block_id:
        # ... but the first block with claims holds more than a page: cut it between two.
        claims, at = claims[:limit], at + 1
        beyond = Cursor(blocks[at - 1].ordinal, over.start if forward else claims[-1].start)
    elif min(at, PAGE_BLOCKS) < len(blocks):
        at = min(at, PAGE_BLOCKS)
        beyond = Cursor(blocks[at if forward else at - 1].ordinal)
    blocks = blocks[:at]
    kept = {block.pk for block in blocks}
    claims = [claim for claim in claims if claim.block_id in kept]
    if forward:
        return Stretch(blocks, claims, None if text.first(cursor) else cursor, beyond)
    return Stretch(blocks[::-1], claims[::-1], beyond, cursor)


@dataclass(frozen=True)
class Asked:
    """A page asked for beside another: the one from a place on (``?from=``), or the one
    up to a place (``?before=``). With neither, ``find_page`` shows the first page, or the
    one that holds the claim to open."""

    start: Cursor | None = None
    before: Cursor | None = None

    @classmethod
    def from_query(cls, query: QueryDict) -> Asked:
        return cls(Cursor.parse(query.get("from")), Cursor.parse(query.get("before")))

    @property
    def beside(self) -> str:
        """The query's name ("from" or "before") of a page asked for beside another."""
        return "from" if self.start else "before" if self.before else ""


def find_page(text: Text, asked: Asked, claim: Key | None) -> Stretch:
    """The page asked for; failing that, the one that holds the claim at ``claim`` with about
    half a page before it; else the first page."""
    if asked.start is not None:
        return stretch(text, asked.start)
    if asked.before is not None:
        return stretch(text, asked.before, forward=False)
    if claim is None:
        return stretch(text, START)
    ordinal, start, pk = claim
    before = stretch(text, Cursor(ordinal), forward=False, limit=PAGE_CLAIMS // 2)
    page = stretch(text, before.start or START)
    # Too many claims in its block to fit after those: from its block, or within it.
    for cursor in (Cursor(ordinal), Cursor(ordinal, start)):
        if any(held.pk == pk for held in page.claims):
            break
        page = stretch(text, cursor)
    return page


@dataclass
class Page:
    """One page of the article screen: its paragraphs (text and claim pieces), the claims
    on it, and where the pages before and after it end and start (None: there is none)."""

    blocks: list[dict[str, Any]]
    views: list[ClaimView]
    start: Cursor | None
    end: Cursor | None


def page_of(text: str, found: Stretch, views: list[ClaimView]) -> Page:
    return Page(reading_blocks(text, found, views), views, found.start, found.end)


def reading_blocks(text: str, found: Stretch, views: list[ClaimView]) -> list[dict[str, Any]]:
    """A page's paragraphs, each a list of plain-text and claim pieces; a block cut by the
    page's start or end only from or up to there (``cut``)."""
    by_block: dict[int, list[ClaimView]] = {}
    for view in views:
        by_block.setdefault(view.claim.block_id, []).append(view)
    blocks = []
    for block in found.blocks:
        cursor = lo = _inside(found.start, block, block.start)
        hi = _inside(found.end, block, block.end)
        pieces: list[dict[str, Any]] = []
        for view in by_block.get(block.pk, []):
            claim = view.claim
            if claim.start > cursor:
                pieces.append({"text": text[cursor : claim.start]})
            pieces.append({"view": view})
            cursor = claim.end
        if cursor < hi:
            pieces.append({"text": text[cursor:hi]})
        cut = (lo, hi) != (block.start, block.end)
        blocks.append({"block": block, "pieces": pieces, "cut": cut})
    return blocks


def _inside(place: Cursor | None, block: Paragraph, otherwise: int) -> int:
    """Where ``place`` falls inside ``block``, if it does (between two of its claims)."""
    return place.at if place and place.at and place.block == block.ordinal else otherwise


def reading_page(
    article: Article,
    member: Member,
    filters: Filters,
    asked: Asked,
    wanted: int | None,
    kept: int | None,
) -> tuple[Page, int | None, ClaimView | None]:
    """The page of the article's current text that is asked for (``find_page``): with
    filters, only the blocks that hold matching claims (the others there dimmed). With it,
    how many claims match (None: no filters, all of them) and the claim to open:
    ``wanted`` (``?claim=``, shown even if it does not match), else ``kept`` (``?keep=``,
    open when the filters changed) while it matches. Four queries; three more to find the
    claim to open and half a page before it; one more with filters."""
    asked_for = [pk for pk in (wanted, kept) if pk is not None]
    places: dict[int | None, Key] = {}
    if asked_for:
        rows = article.claims.filter(pk__in=asked_for)
        places = {key[2]: key for key in rows.values_list("block__ordinal", "start", "pk")}
    matched: set[int] | None = None
    text = StoredText(article)
    if filters.active:
        shown = matching(article, member, filters)
        matched = {pk for *_place, pk in shown}
        if wanted in places and wanted not in matched:
            bisect.insort(shown, places[wanted])
        text = StoredText(article, shown)
    target = None
    if wanted in places:
        target = wanted
    elif kept in places and (matched is None or kept in matched):
        target = kept
    found = find_page(text, asked, places.get(target))
    views = claim_views(article, member, found.claims)
    for view in views:
        view.matches = matched is None or view.claim.pk in matched
    current = next((view for view in views if view.claim.pk == target), None)
    return page_of(article.text, found, views), None if matched is None else len(matched), current


def held_page(
    article: Article,
    views: list[ClaimView],
    filters: Filters,
    asked: Asked,
    wanted: int | None,
    kept: int | None,
) -> tuple[Page, int, ClaimView | None]:
    """As ``reading_page``, of a text held in memory (``views`` of all its claims, in text
    order: an article at a past moment), with how many claims match. One query."""
    matching_count = apply_filters(views, filters)
    by_id = {view.claim.pk: view for view in views}
    target = None
    if wanted in by_id:
        target = wanted
    elif kept in by_id and by_id[kept].matches:
        target = kept
    shown = None
    if filters.active:
        shown = {pk for pk, view in by_id.items() if view.matches or pk == target}
    claims = [view.claim for view in views]
    paragraphs = [Paragraph(*row) for row in article.version_blocks().values_list(*PARAGRAPH)]
    text = HeldText(paragraphs, claims, shown)
    place = None
    if target is not None:
        claim = by_id[target].claim
        place = (claim.block.ordinal, claim.start, claim.pk)
    found = find_page(text, asked, place)
    on_page = [by_id[claim.pk] for claim in found.claims]
    current = by_id.get(target) if target is not None else None
    return page_of(article.text, found, on_page), matching_count, current


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
    if verdicts is None:
        verdicts = access.claim_verdicts(claim)
    view = claim_view(claim, verdicts, member)
    can_edit = member.at_least(Role.REVIEWER)
    next_claim = claim.next_in_sentence() if can_edit else None
    return {
        "member": member,
        "view": view,
        "claim": claim,
        "citations": view.citations,
        **evidence_and_history(view, member),
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


def evidence_and_history(view: ClaimView, member: Member) -> dict[str, Any]:
    """The claim's evidence and its recent history as the member may see them: before
    their own verdict in a blind project, only their own (two queries)."""
    only = None if view.team_visible else member.user
    return {
        "evidence": access.claim_evidence(view.claim, added_by=only),
        "history": recent_history(view.claim, only_actor=only),
    }


def recent_history(claim: Claim, *, only_actor: Any = None, limit: int = 10) -> list[Any]:
    """The claim's latest events in words, newest first, without their diffs; only
    ``only_actor``'s, if given (one query)."""
    events = access.claim_events(claim, limit=limit, actor=only_actor)
    return [history.entry(event, diffs=False) for event in events]


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
